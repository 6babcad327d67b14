"""Bad records planted on purpose, at a configurable rate, so ingestion has work to quarantine.

Record defects break a call export line (JSONL and CSV alike); audio defects break the
call's WAV (via ``audio.write_defective_wav``). :func:`plan` picks which calls go bad and
how; every planted defect is listed in the day manifest.
"""

from __future__ import annotations

import random
from typing import Any

#: Defects of the export record itself.
RECORD_DEFECTS: tuple[str, ...] = (
    "empty_transcript",  # transcript "" or blanks
    "unknown_intent",  # an intent that is not in the taxonomy
    "duplicate_call_id",  # the call id of an earlier (good) call of the day
    "wrong_type_duration",  # duration_s is text ("abc")
    "wrong_type_slots",  # slots is a string, not an object
    "truncated_line",  # the JSONL line is cut mid-object (the CSV row loses its tail)
)
#: Defects of the recording -> the ``write_defective_wav`` kind that makes them.
AUDIO_DEFECTS: dict[str, str] = {
    "empty_wav": "empty",
    "truncated_wav": "truncated",
    "not_wav": "not_wav",
    "wrong_sample_rate": "wrong_sample_rate",
}
DEFECT_KINDS: tuple[str, ...] = RECORD_DEFECTS + tuple(AUDIO_DEFECTS)

UNKNOWN_INTENTS = ("crypto_wallet", "cancel_subscription", "open_deposit_v2", "BLOCK_CARD", "")


def plan(seed: str, calls: int, rate: float, audio: bool) -> dict[int, str]:
    """Which calls (by index) get which defect: ``round(calls * rate)`` of them.

    A duplicated id is always copied from an earlier call that has no defect, so exactly
    the planted line is the one a validator rejects.
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"bad rate must be between 0 and 1, got {rate}")
    rng = random.Random(f"{seed}:defects")
    kinds = DEFECT_KINDS if audio else RECORD_DEFECTS
    chosen = sorted(rng.sample(range(calls), round(calls * rate)))
    planned = {i: rng.choice(kinds) for i in chosen}
    for i, kind in planned.items():
        if kind == "duplicate_call_id" and not any(j not in planned for j in range(i)):
            planned[i] = "unknown_intent"
    return planned


def duplicate_source(rng: random.Random, index: int, planned: dict[int, str]) -> int:
    """An earlier index without a defect whose call id the duplicate copies."""
    return rng.choice([j for j in range(index) if j not in planned])


def corrupt_record(rng: random.Random, kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``record`` with a field-level defect (no-op for line and audio defects)."""
    bad = dict(record)
    if kind == "empty_transcript":
        bad["transcript"] = rng.choice(("", " ", "   "))
    elif kind == "unknown_intent":
        bad["intent"] = rng.choice(UNKNOWN_INTENTS)
    elif kind == "wrong_type_duration":
        bad["duration_s"] = rng.choice(("abc", "n/a", "12,5 s"))
    elif kind == "wrong_type_slots":
        slots = record["slots"]
        bad["slots"] = "; ".join(f"{k}={v}" for k, v in slots.items()) or "none"
    return bad


def truncate(rng: random.Random, line: str) -> str:
    """Cut a JSON line mid-object (a strict prefix of an object never parses)."""
    return line[: rng.randint(max(1, len(line) // 4), max(1, 3 * len(line) // 4))]
