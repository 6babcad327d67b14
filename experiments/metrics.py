"""Per-user metrics of an experiment's events, and the metric names a spec may decide on.

The unit of analysis is the user (the unit of assignment): :func:`per_user` reduces the
serving events (``turn`` and ``outcome`` rows, see ``experiments.events``) to one row per
experiment, arm and user, so that each user weighs once whatever their number of turns and
the tests of :mod:`experiments.stats` compare independent observations.

A user whose events fall in two arms (a canary moved them from control to candidate) has one
row per arm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: The per-user quantile of turn latency reported as ``latency_p99_ms``.
LATENCY_QUANTILE = 0.99
GROUP = ["experiment", "arm", "user_id"]


@dataclass(frozen=True)
class MetricDefinition:
    """A per-user column a spec may name in ``metrics:`` and its natural direction."""

    name: str
    better: Literal["higher", "lower"]
    description: str


METRICS: dict[str, MetricDefinition] = {
    m.name: m
    for m in (
        MetricDefinition(
            "resolution_rate", "higher", "share of the user's calls resolved without an agent"
        ),
        MetricDefinition("handoff_rate", "lower", "share of the user's turns handed to an agent"),
        MetricDefinition("mean_confidence", "higher", "mean NLU confidence of the user's turns"),
        MetricDefinition("error_rate", "lower", "share of the user's turns that failed"),
        MetricDefinition("latency_ms", "lower", "mean end-to-end turn latency of the user"),
        MetricDefinition(
            "empty_transcript_rate", "lower", "share of the user's audio turns with no transcript"
        ),
    )
}

#: Columns of :func:`per_user`, in order.
COLUMNS = [
    *GROUP,
    "first_seen",
    "turns",
    "errors",
    "error_rate",
    "handoff_rate",
    "empty_transcript_rate",
    "mean_confidence",
    "latency_ms",
    "latency_p99_ms",
    "outcomes",
    "resolution_rate",
]


def per_user(events: pd.DataFrame) -> pd.DataFrame:
    """One row per ``(experiment, arm, user_id)`` of the events that carry an arm.

    Turn rates are over the user's turns; ``resolution_rate`` is over their ``outcome``
    events (NaN for a user with none, who then counts in no test of that metric).
    """
    import pandas as pd

    placed = events[events["arm"].notna() & events["experiment"].notna()]
    turns = placed[placed["kind"] == "turn"]
    outcomes = placed[placed["kind"] == "outcome"]
    audio = flags(turns["input_kind"] == "audio")
    turns = turns.assign(
        is_error=error_flags(turns["error"]),
        handoff=flags(turns["handoff"]),
        audio=audio,
        empty=flags(turns["transcript_empty"]) & audio,
        confidence=floats(turns["confidence"]),
        latency_ms=floats(turns["latency_ms"]),
    )
    grouped = turns.groupby(GROUP, sort=True)
    frame = pd.DataFrame(
        {
            "first_seen": grouped["occurred_at"].min(),
            "turns": grouped.size(),
            "errors": grouped["is_error"].sum(),
            "handoff_rate": grouped["handoff"].mean(),
            "audio_turns": grouped["audio"].sum(),
            "empty_turns": grouped["empty"].sum(),
            "mean_confidence": grouped["confidence"].mean(),
            "latency_ms": grouped["latency_ms"].mean(),
            "latency_p99_ms": grouped["latency_ms"].quantile(LATENCY_QUANTILE),
        }
    )
    frame["error_rate"] = frame["errors"] / frame["turns"]
    frame["empty_transcript_rate"] = frame["empty_turns"] / frame["audio_turns"].clip(lower=1)
    resolved = outcomes.assign(resolved=floats(outcomes["resolved"])).groupby(GROUP)
    frame = frame.join(
        pd.DataFrame({"outcomes": resolved.size(), "resolution_rate": resolved["resolved"].mean()}),
        how="outer",
    )
    frame["turns"] = frame["turns"].fillna(0).astype(int)
    frame["errors"] = frame["errors"].fillna(0).astype(int)
    frame["outcomes"] = frame["outcomes"].fillna(0).astype(int)
    return frame.reset_index()[COLUMNS]


def floats(series: pd.Series) -> np.ndarray:
    """Numbers (nullable booleans too) as floats, a missing value as NaN."""
    import numpy as np

    return series.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def flags(series: pd.Series) -> np.ndarray:
    """Booleans (nullable or not), a missing value as False."""
    import numpy as np

    return np.nan_to_num(floats(series), nan=0.0) > 0


def error_flags(series: pd.Series) -> np.ndarray:
    """Whether each ``error`` is set (neither missing nor empty)."""
    return (series.notna() & (series.astype(object).fillna("") != "")).to_numpy(dtype=bool)


def users_per_arm(users: pd.DataFrame, arms: list[str]) -> dict[str, int]:
    """Distinct users per arm (0 for an arm nobody reached), in the arms' order."""
    counts = users.groupby("arm")["user_id"].nunique()
    return {arm: int(counts.get(arm, 0)) for arm in arms}
