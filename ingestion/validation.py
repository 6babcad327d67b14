"""Basic validation of incoming records before they reach the lake.

Every record either passes or is rejected with a reason naming the field and what is wrong;
rejects go to ``quarantine/`` in the same lake commit. Deeper checks (taxonomy coverage,
leakage, personal data) are dbt tests in the warehouse.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from core.splits import real_speech_split
from core.taxonomy import Taxonomy, load_taxonomy
from core.telephony import parse_line
from core.voices import REAL_SPEECH_ENGINE, parse_natural_id, speaker_engine

#: The telephone-band contract of a recording.
RECORDING_SAMPLE_RATE = 8000
RECORDING_CHANNELS = 1
RECORDING_SAMPLE_WIDTH = 2
MAX_RECORDING_SECONDS = 600.0


@dataclass
class Checked:
    """Records that passed and rejects as ``{"reason": ..., "record": ...}``."""

    valid: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, record: Any, reason: str) -> None:
        self.rejects.append({"reason": reason, "record": record})


def _is_timestamp(value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _call_problem(record: Any, taxonomy: Taxonomy) -> str | None:
    """The first thing wrong with a call record, or None."""
    if not isinstance(record, dict):
        return f"record is a {type(record).__name__}, not an object"
    for name in ("call_id", "customer_id"):
        if not isinstance(record.get(name), str) or not record[name].strip():
            return f"{name}: missing or empty"
    if not _is_timestamp(record.get("started_at")):
        return f"started_at: not an ISO timestamp ({record.get('started_at')!r})"
    if record.get("language") not in taxonomy.languages:
        return f"language: {record.get('language')!r} is not one of {list(taxonomy.languages)}"
    duration = record.get("duration_s")
    if isinstance(duration, bool) or not isinstance(duration, int | float) or duration < 0:
        return f"duration_s: {duration!r} is not a non-negative number"
    transcript = record.get("transcript")
    if not isinstance(transcript, str) or not transcript.strip():
        return "transcript: missing or empty"
    intent = record.get("intent")
    if intent not in taxonomy.intents:
        return f"intent: {intent!r} is not in the taxonomy"
    slots = record.get("slots")
    if not isinstance(slots, dict):
        return f"slots: {type(slots).__name__}, expected an object"
    unknown = sorted(set(slots) - set(taxonomy.slots_of(intent)))
    if unknown:
        return f"slots: {unknown} not allowed for intent {intent}"
    rate = record.get("sample_rate")
    if isinstance(rate, bool) or not isinstance(rate, int):
        return f"sample_rate: {rate!r} is not an integer"
    for name in ("channel", "bot_response", "recording", "speaker", "line"):
        if not isinstance(record.get(name), str):
            return f"{name}: missing or not a string"
    try:
        parse_line(record["line"])
    except ValueError as error:
        return f"line: {error}"
    return None


def check_calls(records: Iterable[Any], taxonomy: Taxonomy | None = None) -> Checked:
    """Validate call export records; a repeated call id is rejected after its first use."""
    taxonomy = taxonomy or load_taxonomy()
    checked = Checked()
    seen: set[str] = set()
    for record in records:
        problem = _call_problem(record, taxonomy)
        if problem is None and record["call_id"] in seen:
            problem = "call_id: duplicate of an earlier call of the export"
        if problem:
            checked.reject(record, problem)
            continue
        seen.add(record["call_id"])
        checked.valid.append(record)
    return checked


def _keyed_problem(key: str) -> Callable[[Any], str | None]:
    def problem(record: Any) -> str | None:
        if not isinstance(record, dict):
            return f"record is a {type(record).__name__}, not an object"
        if not isinstance(record.get(key), str) or not record[key].strip():
            return f"{key}: missing or empty"
        if not _is_timestamp(record.get("updated_at")):
            return f"updated_at: not an ISO timestamp ({record.get('updated_at')!r})"
        return None

    return problem


CRM_PRIMARY_KEYS = {"customers": "customer_id", "tickets": "ticket_id"}


def check_crm(stream: str, records: Iterable[Any]) -> Checked:
    """Validate CRM records: a primary key and a parseable ``updated_at``."""
    problem_of = _keyed_problem(CRM_PRIMARY_KEYS[stream])
    checked = Checked()
    for record in records:
        problem = problem_of(record)
        if problem:
            checked.reject(record, problem)
        else:
            checked.valid.append(record)
    return checked


def recording_problem(data: bytes) -> str | None:
    """What is wrong with a WAV recording (None if it meets the telephone-band contract)."""
    if not data:
        return "empty file"
    try:
        with wave.open(io.BytesIO(data)) as wav:
            rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
            frames = wav.getnframes()
            payload = len(wav.readframes(frames))
    except (wave.Error, EOFError) as err:
        return f"not a readable WAV: {err}"
    if payload < frames * channels * width:
        return f"truncated: header says {frames} frames, data holds {payload // (channels * width)}"
    if rate != RECORDING_SAMPLE_RATE:
        return f"sample rate {rate} Hz, expected {RECORDING_SAMPLE_RATE} Hz"
    if channels != RECORDING_CHANNELS:
        return f"{channels} channels, expected mono"
    if width != RECORDING_SAMPLE_WIDTH:
        return f"{8 * width}-bit samples, expected 16-bit PCM"
    if frames == 0:
        return "no audio frames"
    if frames / rate > MAX_RECORDING_SECONDS:
        return f"{frames / rate:.0f} s long, over {MAX_RECORDING_SECONDS:.0f} s"
    return None


# -- the voice corpus (studio deliveries: ingestion/voice_corpus) ---------------------------

VOICE_CORPUS_FIELDS = ("utterance_id", "text", "language", "speaker", "audio_file")


def _corpus_speaker_problem(speaker: str, language: str, text: str) -> str | None:
    """What is wrong with a corpus row's speaker: an unknown voice, another language, or a
    festvox-ru sentence outside the train split (it scores STT and TTS)."""
    if speaker_engine(speaker) == REAL_SPEECH_ENGINE:
        if language != "ru":
            return f"speaker: {speaker!r} is Russian speech, the row says {language!r}"
        split = real_speech_split(text)
        if split != "train":
            return (
                f"text: a festvox-ru {split} sentence (core.splits.real_speech_split); only "
                "train sentences may enter the corpus"
            )
        return None
    try:
        parse_natural_id(speaker)
    except ValueError as error:
        return f"speaker: {error}"
    return None


def _corpus_problem(record: Any, languages: Iterable[str], audio_dir: Path) -> str | None:
    """The first thing wrong with a voice-corpus manifest row (its WAV included), or None."""
    if not isinstance(record, dict):
        return f"record is a {type(record).__name__}, not an object"
    for name in VOICE_CORPUS_FIELDS:
        if not isinstance(record.get(name), str) or not record[name].strip():
            return f"{name}: missing or empty"
    if record["language"] not in languages:
        return f"language: {record['language']!r} is not one of {list(languages)}"
    problem = _corpus_speaker_problem(record["speaker"], record["language"], record["text"])
    if problem:
        return problem
    name = record["audio_file"]
    if name != f"{record['utterance_id']}.wav":
        return (
            f"audio_file: {name!r} is not the utterance's file name ({record['utterance_id']}.wav)"
        )
    path = audio_dir / name
    if not path.is_file():
        return f"audio_file: {name} is not in the delivery ({audio_dir})"
    problem = recording_problem(path.read_bytes())
    if problem:
        return f"audio_file: {name}: {problem}"
    return None


def check_voice_corpus(
    records: Iterable[Any],
    audio_dir: Path,
    *,
    manifest: str = "manifest.jsonl",
    taxonomy: Taxonomy | None = None,
    seen: set[str] | None = None,
) -> Checked:
    """Validate a delivery's manifest rows against its audio folder: the fields, a known
    language and voice, no held-out festvox-ru sentence, a WAV named ``<utterance_id>.wav``
    that meets the telephone-band contract. A repeated utterance id (in this manifest or in
    ``seen``, updated) is rejected after its first use. Each reason names the field and ends
    with the manifest file (``manifest``)."""
    languages = list((taxonomy or load_taxonomy()).languages)
    checked = Checked()
    seen = set() if seen is None else seen
    for record in records:
        problem = _corpus_problem(record, languages, Path(audio_dir))
        if problem is None and record["utterance_id"] in seen:
            problem = "utterance_id: duplicate of an earlier row of the delivery"
        if problem:
            checked.reject(record, f"{problem} (file {manifest})")
            continue
        seen.add(record["utterance_id"])
        checked.valid.append(record)
    return checked
