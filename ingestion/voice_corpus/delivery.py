"""Write a studio delivery of the voice corpus: a manifest and its WAVs.

A delivery is a folder under ``<sources root>/voice_corpus/``::

    <delivery>/manifest.jsonl            one utterance per line (schemas.VOICE_CORPUS_FIELDS)
    <delivery>/audio/<utterance id>.wav  8 kHz 16-bit mono, the clean telephone line

It holds two voices, each on the clean line the simulator's TTS recordings use
(:data:`core.telephony.CLEAN_LINE`), so TTS aligns them as it aligns call recordings:

* festvox-ru's **train** sentences only (:func:`core.splits.real_speech_split`; the
  validation and ``test_real`` sentences score STT and TTS and never enter), passed through
  the line by :func:`core.audio.telephone_copy`, speaker ``festvox-ru:<utterance id>`` (the
  phone labels beside the recording align it);
* one natural English voice (:data:`ENGLISH_VOICE`, Festival's slt at its own tempo, pitch and
  level) reading the script (:mod:`ingestion.voice_corpus.script`), rendered by
  :func:`core.audio.render_speech`.

Same arguments -> the same bytes. ``python -m ingestion.voice_corpus.delivery --root DIR``
writes one; ``--russian N --english N`` limit it (tests use a few utterances).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

from core.audio import SynthesisError, real_speech_utterances, render_speech, telephone_copy
from core.splits import real_speech_split
from core.voices import REAL_SPEECH_ENGINE, Speaker, speaker_engine
from ingestion.schemas import VOICE_CORPUS_FIELDS as MANIFEST_FIELDS
from ingestion.voice_corpus.script import SCRIPT_EN, SCRIPT_VERSION, read_script

#: The delivery the demo writes and ingests.
DELIVERY = f"studio-{SCRIPT_VERSION}"
MANIFEST = "manifest.jsonl"
AUDIO_DIR = "audio"
SAMPLE_RATE = 8000
#: The English corpus voice: Festival's slt (a real speaker's HTS voice), unshifted.
ENGLISH_VOICE = "festival:cmu_us_slt_arctic_hts:t1.00:p+0:g+0"


class HeldOutSentenceError(ValueError):
    """A festvox-ru sentence outside the train split was asked into the corpus."""


def voice_corpus_root(sources_root: Path) -> Path:
    """Where deliveries are dropped: ``<sources root>/voice_corpus``."""
    return Path(sources_root) / "voice_corpus"


def delivery_manifests(sources_root: Path) -> list[Path]:
    """Every delivery's manifest under the sources root, in name order."""
    return sorted(voice_corpus_root(sources_root).glob(f"*/{MANIFEST}"))


@dataclass(frozen=True)
class DeliveryReport:
    """What :func:`write_delivery` wrote."""

    directory: Path
    utterances: dict[str, int]  # per language
    failed: int  # English sentences the engine could not say (left out)
    seconds: dict[str, float]  # rendering time per language


def festvox_train_utterances(ids: list[str] | None = None) -> list[tuple[str, Path, Speaker]]:
    """festvox-ru's train-split utterances (all, or those of ``ids`` in their order).

    Raises :class:`HeldOutSentenceError` for an id whose sentence is in the validation or
    ``test_real`` split, and ``KeyError`` for an unknown id."""
    every = {item[2].id.split(":", 1)[1]: item for item in real_speech_utterances("ru")}
    chosen = list(every) if ids is None else ids
    picked = []
    for utterance in chosen:
        text, wav, speaker = every[utterance]
        split = real_speech_split(text)
        if split != "train":
            if ids is None:
                continue
            raise HeldOutSentenceError(
                f"festvox-ru {utterance} is a {split} sentence (core.splits.real_speech_split): "
                "it scores STT and TTS and must not enter the corpus"
            )
        picked.append((text, wav, speaker))
    return picked


def _line(
    utterance_id: str, text: str, language: str, speaker: str, duration: float, script: str
) -> dict:
    line = {
        "utterance_id": utterance_id,
        "text": text,
        "language": language,
        "speaker": speaker,
        "audio_file": f"{utterance_id}.wav",
        "sample_rate": SAMPLE_RATE,
        "duration_s": round(duration, 4),
        "script": script,
    }
    assert tuple(line) == MANIFEST_FIELDS
    return line


def write_delivery(
    directory: Path,
    *,
    russian: int | None = None,
    english: int | None = None,
    festvox_ids: list[str] | None = None,
    script: Path = SCRIPT_EN,
) -> DeliveryReport:
    """Write a delivery to ``directory``: the first ``russian`` festvox-ru train utterances
    (or ``festvox_ids``; all when None) and the first ``english`` script sentences (all when
    None) read by :data:`ENGLISH_VOICE`. An English sentence the engine fails on is left out
    and counted in ``failed``."""
    directory = Path(directory)
    audio = directory / AUDIO_DIR
    audio.mkdir(parents=True, exist_ok=True)
    lines: list[dict] = []
    seconds: dict[str, float] = {}

    started = time.monotonic()
    festvox = festvox_train_utterances(festvox_ids)
    for text, source, speaker in festvox[:russian] if russian is not None else festvox:
        utterance_id = f"ru-{speaker.id.split(':', 1)[1]}"
        duration = telephone_copy(source, audio / f"{utterance_id}.wav", SAMPLE_RATE)
        lines.append(_line(utterance_id, text, "ru", speaker.id, duration, REAL_SPEECH_ENGINE))
    seconds["ru"] = time.monotonic() - started

    started = time.monotonic()
    sentences = read_script(script)
    voice = Speaker(ENGLISH_VOICE, "en", held_out=False)
    failed = 0
    for number, text in enumerate(sentences[:english] if english is not None else sentences, 1):
        utterance_id = f"en-{number:04d}"
        try:
            duration = render_speech(text, voice, audio / f"{utterance_id}.wav", SAMPLE_RATE)
        except SynthesisError:
            failed += 1
            continue
        lines.append(_line(utterance_id, text, "en", voice.id, duration, script.stem))
    seconds["en"] = time.monotonic() - started

    manifest = directory / MANIFEST
    manifest.write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8"
    )
    counts = {"ru": 0, "en": 0}
    for line in lines:
        counts[line["language"]] += 1
    return DeliveryReport(directory, counts, failed, seconds)


def is_real_speech(speaker: str) -> bool:
    """Whether a manifest speaker is a real recording (festvox-ru)."""
    return speaker_engine(speaker) == REAL_SPEECH_ENGINE


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write a voice-corpus studio delivery.")
    parser.add_argument("--root", type=Path, required=True, help="the sources root")
    parser.add_argument("--delivery", default=DELIVERY)
    parser.add_argument("--russian", type=int, default=None)
    parser.add_argument("--english", type=int, default=None)
    args = parser.parse_args(argv)
    report = write_delivery(
        voice_corpus_root(args.root) / args.delivery, russian=args.russian, english=args.english
    )
    print(
        f"{report.directory}: {report.utterances} utterances, {report.failed} failed; "
        f"seconds {', '.join(f'{k} {v:.1f}' for k, v in report.seconds.items())}"
    )


if __name__ == "__main__":
    main()
