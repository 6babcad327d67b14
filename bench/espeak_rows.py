"""STT rows from the phrasebook spoken by espeak-ng voices on a telephone line: unseen
(held-out) voices make ``test``, the others ``train`` / ``validation`` (by a hash of the
text). Only espeak-ng is needed (``core.audio.render_speech``).

    rows = espeak_rows(300, seed=0)
"""

from __future__ import annotations

import hashlib
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from core import language as nl
from core.audio import render_speech
from core.language import INTENT_WEIGHTS
from core.voices import speakers
from training.common.audio import read_wav

CACHE = Path("/tmp/voiceops-espeak-rows")


def _split(held_out: bool, text: str) -> str:
    if held_out:
        return "test"
    bucket = int(hashlib.sha256(text.lower().encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "validation" if bucket < 0.1 else "train"


def espeak_rows(per_language: int, seed: int = 0, workers: int = 2) -> list[dict[str, Any]]:
    """``per_language`` utterances per language with ``audio`` attached (cached by name)."""
    rng = random.Random(f"espeak-rows:{seed}")
    plan = []
    for language in ("ru", "en"):
        voices = [s for s in speakers(language) if s.id.startswith("espeak:")]
        for i in range(per_language):
            intent = rng.choices(list(INTENT_WEIGHTS), list(INTENT_WEIGHTS.values()))[0]
            said = nl.utterance(intent, language, rng, date(2026, 1, 15))
            if "recipient" in said.surface:  # its transcript would be redacted
                continue
            voice = rng.choice(voices)
            plan.append((f"ESP-{language}-{seed}-{i:05d}", said.text, language, voice))
    CACHE.mkdir(parents=True, exist_ok=True)

    def render(item: tuple) -> dict[str, Any]:
        call_id, text, language, voice = item
        path = (
            CACHE / f"{call_id}-{hashlib.sha256((text + voice.id).encode()).hexdigest()[:10]}.wav"
        )
        if not path.exists():
            render_speech(text, voice, path, 8000)
        audio, rate = read_wav(str(path))
        return {
            "call_id": call_id,
            "transcript": text,
            "transcript_was_redacted": False,
            "language": language,
            "speaker": voice.id,
            "split": _split(voice.held_out, text),
            "audio": audio,
            "audio_rate": rate,
        }

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(render, plan))
