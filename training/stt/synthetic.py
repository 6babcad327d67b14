"""Mart-like STT rows rendered by the simulator's own audio code (no lake needed).

Each utterance is a simulated customer phrase spoken by a random catalog voice through the
telephone channel (``core.audio.render_speech``, 8 kHz). As in the mart:
held-out voices make the ``test`` split, the rest is train / validation by a hash of the
text, a train or validation row whose text is also a test text is dropped, recipient names
are redacted to ``<PERSON>`` (so those rows are ``transcript_was_redacted``), and held-out
festvox-ru recordings (real human speech) make ``test_real``. Rendered WAVs are cached.
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
from core.voices import speakers
from training.common.audio import read_wav
from training.stt.text import normalize

PERSON = "<PERSON>"
VALIDATION_SHARE = 0.1
DEFAULT_CACHE = Path("/tmp/voiceops-stt-cache")


def _bucket(text: str) -> float:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 16**8


def _plan(per_language: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(f"stt-synthetic:{seed}")
    today = date(2026, 1, 15)
    rows = []
    for language in nl.LANGUAGES:
        voices = speakers(language)
        for i in range(per_language):
            intent = rng.choices(list(INTENT_WEIGHTS), list(INTENT_WEIGHTS.values()))[0]
            said = nl.utterance(intent, language, rng, today)
            speaker = rng.choice(voices)
            transcript = said.text
            if "recipient" in said.surface:
                transcript = transcript.replace(said.surface["recipient"], PERSON)
            held_out = speaker.held_out
            split = "test" if held_out else "train"
            if not held_out and _bucket(normalize(said.text, language)) < VALIDATION_SHARE:
                split = "validation"
            rows.append(
                {
                    "call_id": f"SYN-{language}-{i:06d}",
                    "spoken": said.text,
                    "transcript": transcript,
                    "transcript_was_redacted": transcript != said.text,
                    "language": language,
                    "speaker": speaker.id,
                    "is_real_speech": False,
                    "split": split,
                    "_speaker": speaker,
                }
            )
    test_texts = {normalize(r["transcript"], r["language"]) for r in rows if r["split"] == "test"}
    return [
        r
        for r in rows
        if r["split"] == "test" or normalize(r["transcript"], r["language"]) not in test_texts
    ]


def _render(row: dict[str, Any], cache: Path) -> dict[str, Any]:
    key = hashlib.sha256(f"{row['spoken']}|{row['speaker']}".encode()).hexdigest()[:24]
    path = cache / f"{key}.wav"
    if not path.exists():
        render_speech(row.pop("spoken"), row.pop("_speaker"), path)
    row.pop("spoken", None), row.pop("_speaker", None)
    row["audio"], row["audio_rate"] = read_wav(str(path))
    row["sample_rate"] = row["audio_rate"]
    row["duration_s"] = len(row["audio"]) / row["audio_rate"]
    row["audio_path"] = str(path)
    return row


def real_rows(count: int, cache: Path = DEFAULT_CACHE) -> list[dict[str, Any]]:
    """``test_real`` rows: held-out festvox-ru utterances through the telephone channel."""
    held_out = [u for u in real_speech_utterances("ru") if u[2].held_out][:count]
    rows = []
    for text, wav, speaker in held_out:
        path = Path(cache) / f"real-{wav.stem}.wav"
        if not path.exists():
            telephone_copy(wav, path)
        audio, rate = read_wav(str(path))
        rows.append(
            {
                "call_id": f"REAL-{wav.stem}",
                "transcript": text,
                "transcript_was_redacted": False,
                "language": "ru",
                "speaker": speaker.id,
                "is_real_speech": True,
                "split": "test_real",
                "audio": audio,
                "audio_rate": rate,
                "sample_rate": rate,
                "duration_s": len(audio) / rate,
                "audio_path": str(path),
            }
        )
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
    duplicates); ``real`` adds that many ``test_real`` rows when festvox-ru is installed.
    """
    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    plan = _plan(per_language, seed)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        rows = list(pool.map(lambda r: _render(r, cache), plan))
    return rows + (real_rows(real, cache) if real else [])
