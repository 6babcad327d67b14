"""Mart-like TTS rows rendered by the contact-center simulator, for work without a lake.

Texts come from the simulator's phrasebook, audio from its own espeak-ng + telephone-channel
code (:func:`core.audio.render_speech`), so the rows look like the mart's.
Splits follow the mart's rule (by text); test rows are spoken by held-out voices.
"""

from __future__ import annotations

import hashlib
import random
from datetime import date
from pathlib import Path
from typing import Any

from core.audio import render_speech
from core.language import LANGUAGES, utterance
from core.taxonomy import load_taxonomy
from core.voices import speakers


def split_of_text(text: str, test_pct: int = 10, validation_pct: int = 10) -> str:
    """Deterministic split by a hash of the lowercased text (no text in two splits)."""
    bucket = int(hashlib.sha256(text.lower().encode()).hexdigest()[:8], 16) % 100
    if bucket < test_pct:
        return "test"
    return "validation" if bucket < test_pct + validation_pct else "train"


def synthetic_rows(
    per_language: int, out_dir: Path, seed: int = 0, today: date = date(2026, 1, 15)
) -> list[dict[str, Any]]:
    """``per_language`` rendered utterances per language (WAVs cached in ``out_dir``)."""
    rng = random.Random(f"tts-synthetic:{seed}")
    intents = list(load_taxonomy().intents)
    out_dir = Path(out_dir)
    rows: list[dict[str, Any]] = []
    for language in LANGUAGES:
        catalog = speakers(language)
        seen: set[str] = set()
        attempts = 0
        while len(seen) < per_language and attempts < per_language * 20:
            attempts += 1
            text = utterance(rng.choice(intents), language, rng, today).text
            if text in seen:
                continue
            seen.add(text)
            split = split_of_text(text)
            pool = [s for s in catalog if s.held_out == (split == "test")]
            speaker = rng.choice(pool)
            key = hashlib.sha256(f"{text}|{speaker.id}".encode()).hexdigest()[:20]
            path = out_dir / language / f"{key}.wav"
            duration = render_speech(text, speaker, path) if not path.exists() else None
            rows.append(
                {
                    "example_id": key,
                    "call_id": key,
                    "text": text,
                    "language": language,
                    "audio_path": None,
                    "audio_lake_commit": None,
                    "wav_file": str(path),
                    "speaker": speaker.id,
                    "is_real_speech": False,
                    "duration_s": duration,
                    "sample_rate": 8000,
                    "split": split,
                }
            )
    return rows
