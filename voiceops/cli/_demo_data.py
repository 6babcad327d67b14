# ruff: noqa: RUF001 (Russian phrases use Cyrillic letters on purpose)
"""A small, seeded sample of contact-center data for the demo (no real people, no speech).

Call records and CRM tickets are JSON Lines; the recording is a WAV test tone made with
the standard ``wave`` module (a sine, not speech).
"""

from __future__ import annotations

import io
import json
import math
import random
import struct
import wave
from datetime import UTC, date, datetime, timedelta
from typing import Any

INTENTS = ("block_card", "check_balance", "loan_info", "payment_status", "talk_to_operator")
PHRASES: dict[tuple[str, str], str] = {
    ("ru", "block_card"): "Заблокируйте, пожалуйста, мою карту",
    ("en", "block_card"): "Please block my card",
    ("ru", "check_balance"): "Какой у меня баланс по счёту?",
    ("en", "check_balance"): "What is my account balance?",
    ("ru", "loan_info"): "Какая ставка по потребительскому кредиту?",
    ("en", "loan_info"): "What is the interest rate on a personal loan?",
    ("ru", "payment_status"): "Где мой перевод?",
    ("en", "payment_status"): "Where is my transfer?",
    ("ru", "talk_to_operator"): "Соедините с оператором",
    ("en", "talk_to_operator"): "Connect me to an operator",
}


def call_records(day: date, run_id: str, seed: int, count: int = 8) -> list[dict[str, Any]]:
    """``count`` call records of ``day``; the same seed and day give the same calls."""
    rng = random.Random(f"{seed}-{day.isoformat()}")
    start = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
    records = []
    for i in range(count):
        language = rng.choice(("ru", "en"))
        intent = rng.choice(INTENTS)
        records.append(
            {
                "call_id": f"CALL-{day:%Y%m%d}-{i:04d}",
                "started_at": (start + timedelta(seconds=rng.randint(0, 10 * 3600))).isoformat(),
                "duration_s": rng.randint(20, 600),
                "language": language,
                "channel": "phone",
                "customer_id": f"CUST-{rng.randint(1, 99999):05d}",
                "intent": intent,
                "transcript": PHRASES[(language, intent)],
                "handed_to_agent": intent == "talk_to_operator",
                "ingest_run_id": run_id,
            }
        )
    return records


def ticket_records(calls: list[dict[str, Any]], run_id: str) -> list[dict[str, Any]]:
    """CRM tickets opened for the calls that were handed to an agent or blocked a card."""
    return [
        {
            "ticket_id": f"TCK-{call['call_id'][5:]}",
            "call_id": call["call_id"],
            "customer_id": call["customer_id"],
            "topic": call["intent"],
            "status": "open",
            "ingest_run_id": run_id,
        }
        for call in calls
        if call["intent"] in {"talk_to_operator", "block_card"}
    ]


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def read_jsonl(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]


def test_tone_wav(frequency: float = 440.0, seconds: float = 1.0, rate: int = 16_000) -> bytes:
    """A mono 16-bit PCM sine tone (a test tone, not speech)."""
    frames = b"".join(
        struct.pack("<h", int(0.3 * 32767 * math.sin(2 * math.pi * frequency * n / rate)))
        for n in range(int(seconds * rate))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return buffer.getvalue()


def relabel_first_call(records: list[dict[str, Any]]) -> tuple[str, str]:
    """A reviewer's correction: the first call gets the next intent; returns (old, new)."""
    old = records[0]["intent"]
    new = INTENTS[(INTENTS.index(old) + 1) % len(INTENTS)]
    records[0] |= {"intent": new, "label_source": "reviewer"}
    return old, new
