"""Event frames with planted effects, in the shape ``experiments.events`` reads them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Arm:
    """How one arm's users behave."""

    users: int
    resolution_rate: float = 0.8
    latency_ms: float = 300.0
    error_rate: float = 0.0
    handoff_rate: float = 0.05
    versions: tuple[tuple[str, int], ...] = (("nlu", 1),)


def planted_events(
    experiment: str,
    arms: dict[str, Arm],
    *,
    seed: int = 0,
    turns_per_user: int = 3,
    start: datetime = datetime(2026, 12, 7, 9),
    user_prefix: str = "caller",
) -> pd.DataFrame:
    """Each user: ``turns_per_user`` turns and one outcome, arriving one second apart."""
    rng = np.random.default_rng(seed)
    rows = []
    order = [arm for arm, behaviour in arms.items() for _ in range(behaviour.users)]
    rng.shuffle(order)  # users of every arm arrive interleaved, as in production
    for index, arm in enumerate(order):
        behaviour = arms[arm]
        user = f"{user_prefix}-{index}"
        at = start + timedelta(seconds=index)
        common = {
            "experiment": experiment,
            "arm": arm,
            "user_id": user,
            "session_id": f"{user}-s1",
            "versions": json.dumps(dict(behaviour.versions)),
            "fallback": False,
            "language": "en",
        }
        for turn in range(turns_per_user):
            latency = float(rng.gamma(9.0, behaviour.latency_ms / 9.0))
            failed = rng.random() < behaviour.error_rate
            rows.append(
                common
                | {
                    "event_id": f"{user}-t{turn}",
                    "kind": "turn",
                    "occurred_at": at + timedelta(milliseconds=turn),
                    "turn_index": turn,
                    "input_kind": "audio",
                    "transcript_empty": False,
                    "intent": "check_balance",
                    "confidence": float(rng.uniform(0.5, 1.0)),
                    "handoff": bool(rng.random() < behaviour.handoff_rate),
                    "error": "timeout" if failed else None,
                    "latency_ms": latency,
                    "stt_ms": latency / 4,
                    "nlu_ms": latency / 4,
                    "dialogue_ms": 1.0,
                    "nlg_ms": latency / 4,
                    "tts_ms": latency / 4 - 1,
                    "resolved": None,
                }
            )
        rows.append(
            common
            | {
                "event_id": f"{user}-o",
                "kind": "outcome",
                "occurred_at": at + timedelta(seconds=0.5),
                "turn_index": turns_per_user,
                "input_kind": None,
                "transcript_empty": False,
                "intent": None,
                "confidence": np.nan,
                "handoff": False,
                "error": None,
                "latency_ms": np.nan,
                "resolved": bool(rng.random() < behaviour.resolution_rate),
            }
        )
    return pd.DataFrame(rows)
