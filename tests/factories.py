"""Small, valid test inputs shared by several test modules."""

from __future__ import annotations

import io
import wave
from pathlib import Path

from core.sealing import Sealer, SubjectKeyStore


def call_record(call_id: str, day: str = "2026-01-02", **overrides: object) -> dict:
    """A call export record that passes validation (override fields to break it)."""
    return {
        "call_id": call_id,
        "customer_id": "CUST-000001",
        "started_at": f"{day}T09:15:00+00:00",
        "language": "ru",
        "channel": "phone",
        "duration_s": 2.5,
        "transcript": "Заблокируйте карту 1234",
        "intent": "block_card",
        "slots": {"card_last4": "1234"},
        "bot_response": "Карта заблокирована.",
        "recording": f"{call_id}.wav",
        "speaker": "espeak:ru+m1:s150:p50",
        "sample_rate": 8000,
        "line": "clean",
    } | overrides


def wav_bytes(rate: int = 8000, channels: int = 1, frames: int = 800) -> bytes:
    """A 16-bit PCM WAV of a constant tone level."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\x01\x00" * frames * channels)
    return out.getvalue()


def sealer_in(directory: Path) -> Sealer:
    """A Sealer whose subject key store is a SQLite file in ``directory`` (fixed pseudonym)."""
    store = SubjectKeyStore(f"sqlite:///{directory / 'subject-keys.sqlite3'}", b"k" * 32)
    return Sealer(store)
