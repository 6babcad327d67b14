"""STT rows like the mart's, spoken by espeak voices through the telephone channel
(``core.audio.render_speech``): deterministic, nothing but espeak-ng needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ENGLISH = [
    "What is the dollar exchange rate today?",
    "I want to check my account balance.",
    "Please block my card.",
    "Where is the nearest office?",
]
RUSSIAN = ["Заблокируйте, пожалуйста, мою карту.", "Какой сегодня курс доллара?"]


def spoken_rows(workdir: Path, split: str, *, offset: int = 0) -> list[dict[str, Any]]:
    """:data:`ENGLISH` and :data:`RUSSIAN` as rows of ``split``, each by an espeak voice
    (``offset`` picks other voices)."""
    from core.audio import render_speech
    from core.voices import speakers
    from registry.serving import read_wav

    rows = []
    for language, texts in (("en", ENGLISH), ("ru", RUSSIAN)):
        voices = [s for s in speakers(language) if s.id.startswith("espeak:")]
        for i, text in enumerate(texts):
            path = Path(workdir) / f"{split}-{language}-{i}.wav"
            render_speech(text, voices[(i + offset) % len(voices)], path, 8000)
            audio, rate = read_wav(path)
            rows.append(
                {
                    "call_id": f"{split}-{language}-{i}",
                    "transcript": text,
                    "transcript_was_redacted": False,
                    "language": language,
                    "split": split,
                    "audio": audio,
                    "audio_rate": rate,
                }
            )
    return rows
