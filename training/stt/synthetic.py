"""Mart-like STT rows rendered by the simulator's own audio code (no lake needed).

Each utterance is a simulated customer phrase spoken by a voice of the catalog
(:func:`core.voices.pick_speaker`: espeak-ng, flite or Festival) through a telephone line
drawn as the simulator draws it (:func:`core.telephony.draw_line`, ``DEGRADED_LINE_SHARE``
degraded), except that
held-out voices get the clean line and a degraded one in turn, so that even the small sets
tests draw hold both ``test`` and ``test_channel`` rows. The splits
follow the ``stt_examples`` mart: held-out voices make ``test`` on the clean line and
``test_channel`` on degraded lines; the rest is train / validation by the mart's hash of the
normalized transcript (:mod:`core.splits`); a train or validation row whose text is also a
test text is dropped; recipient names are redacted to ``<PERSON>`` (those rows are
``transcript_was_redacted``). Real human speech (festvox-ru) is split by sentence into
``train`` / ``validation`` / ``test_real`` (:func:`core.splits.real_speech_split`) and goes
through the same line model. Rendered WAVs are cached.
"""

from __future__ import annotations

import hashlib
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from core import language as nl
from core.audio import real_speech_utterances, render_speech, telephone_copy
from core.language import INTENT_WEIGHTS
from core.splits import hash_bucket, normalize_text, real_speech_split
from core.telephony import CLEAN_LINE, DEGRADED_LINE_SHARE, LineProfile, draw_line
from core.voices import pick_speaker
from training.common.audio import read_wav
from training.stt.text import normalize

PERSON = "<PERSON>"
#: Percent of hash buckets in validation (dbt var ``validation_pct``).
VALIDATION_PCT = 10
REAL_SPLITS = ("train", "validation", "test_real")
DEFAULT_CACHE = Path("/tmp/voiceops-stt-cache")


def _split(held_out: bool, line: LineProfile, transcript: str) -> str:
    if held_out:
        return "test" if line.is_clean else "test_channel"
    if hash_bucket(normalize_text(transcript)) < VALIDATION_PCT:
        return "validation"
    return "train"


def _plan(per_language: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(f"stt-synthetic:{seed}")
    today = date(2026, 1, 15)
    rows = []
    for language in nl.LANGUAGES:
        held_out_rows = 0
        for i in range(per_language):
            intent = rng.choices(list(INTENT_WEIGHTS), list(INTENT_WEIGHTS.values()))[0]
            said = nl.utterance(intent, language, rng, today)
            speaker = pick_speaker(rng, language)
            line_seed = rng.getrandbits(64)
            line = draw_line(line_seed, DEGRADED_LINE_SHARE)
            if speaker.held_out:  # clean and degraded in turn: both test splits in small sets
                line = CLEAN_LINE if held_out_rows % 2 == 0 else draw_line(line_seed, 1.0)
                held_out_rows += 1
            transcript = said.text
            if "recipient" in said.surface:
                transcript = transcript.replace(said.surface["recipient"], PERSON)
            rows.append(
                {
                    "call_id": f"SYN-{language}-{i:06d}",
                    "spoken": said.text,
                    "transcript": transcript,
                    "transcript_was_redacted": transcript != said.text,
                    "language": language,
                    "speaker": speaker.id,
                    "line": line.label,
                    "is_real_speech": False,
                    "split": _split(speaker.held_out, line, transcript),
                    "_speaker": speaker,
                    "_line": line,
                }
            )
    tests = {"test", "test_channel"}
    test_texts = {normalize(r["transcript"], r["language"]) for r in rows if r["split"] in tests}
    return [
        r
        for r in rows
        if r["split"] in tests or normalize(r["transcript"], r["language"]) not in test_texts
    ]


def _attach_audio(row: dict[str, Any], path: Path) -> dict[str, Any]:
    row["audio"], row["audio_rate"] = read_wav(str(path))
    row["sample_rate"] = row["audio_rate"]
    row["duration_s"] = len(row["audio"]) / row["audio_rate"]
    row["audio_path"] = str(path)
    return row


def _render(row: dict[str, Any], cache: Path) -> dict[str, Any]:
    key = f"{row['spoken']}|{row['speaker']}|{row['line']}"
    path = cache / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.wav"
    spoken, speaker, line = row.pop("spoken"), row.pop("_speaker"), row.pop("_line")
    if not path.exists():
        render_speech(spoken, speaker, path, line=line)
    return _attach_audio(row, path)


def real_rows(per_split: int, cache: Path = DEFAULT_CACHE) -> list[dict[str, Any]]:
    """Up to ``per_split`` festvox-ru rows in each of ``train``, ``validation`` and
    ``test_real`` (split by sentence), each through its own drawn telephone line."""
    taken: dict[str, int] = dict.fromkeys(REAL_SPLITS, 0)
    rows = []
    for text, wav, speaker in real_speech_utterances("ru"):
        split = real_speech_split(text)
        if taken[split] >= per_split:
            continue
        taken[split] += 1
        seed = int(hashlib.sha256(f"real-line:{wav.stem}".encode()).hexdigest()[:16], 16)
        line = draw_line(seed, DEGRADED_LINE_SHARE)
        key = hashlib.sha256(f"{wav.stem}|{line.label}".encode()).hexdigest()[:16]
        path = Path(cache) / f"real-{wav.stem}-{key}.wav"
        if not path.exists():
            telephone_copy(wav, path, line=line)
        row = {
            "call_id": f"REAL-{wav.stem}",
            "transcript": text,
            "transcript_was_redacted": False,
            "language": "ru",
            "speaker": speaker.id,
            "line": line.label,
            "is_real_speech": True,
            "split": split,
        }
        rows.append(_attach_audio(row, path))
    return rows


def synthetic_rows(
    per_language: int,
    seed: int = 0,
    *,
    real: int = 0,
    cache: Path = DEFAULT_CACHE,
    workers: int = 2,
) -> list[dict[str, Any]]:
    """Rows like the ``stt_examples`` mart's, with ``audio`` and ``audio_rate`` attached.

    ``per_language`` utterances per language are drawn (a few are dropped as test-text
    duplicates; held-out voices land in ``test`` or ``test_channel`` by their line); ``real``
    adds up to that many festvox-ru rows in each of ``train``, ``validation`` and
    ``test_real`` when festvox-ru is installed.
    """
    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    plan = _plan(per_language, seed)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        rows = list(pool.map(lambda r: _render(r, cache), plan))
    return rows + (real_rows(real, cache) if real else [])
