"""One look at a running canary of the retraining loop: advance, decide, or roll back.

:func:`review_canary` advances the rollout on the current stage's events
(:func:`experiments.rollout.advance`). A broken guardrail has already stopped the canary:
the candidate versions lose ``@challenger`` and their trace records the rollback and why. At
the last stage the canary is decided (:func:`experiments.decision.decide`): the candidate is
promoted with the experiment as evidence, or stays running until its stop date, when it
expires: stopped, withdrawn, the reason recorded. Every outcome is written on the candidate
versions (``registry.loop_trace``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from core.settings import Settings
from experiments.analysis import SampleRatioMismatch
from experiments.decision import decide, read_events
from experiments.rollout import advance
from experiments.state import StateStore

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class CanaryReview:
    """What one review did: ``held``, ``advanced``, ``promoted``, ``rolled back``,
    ``expired``, ``waiting`` (complete, no decision yet) or ``not running``."""

    key: str
    action: str
    reason: str
    stage: int
    promotions: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return f"{self.key}: {self.action} (stage {self.stage}): {self.reason}"


def _withdraw(settings: Settings, candidate: dict[str, int], decision: str) -> None:
    from registry.aliases import withdraw_challenger
    from registry.loop_trace import record

    for family_name, version in candidate.items():
        withdraw_challenger(settings, family_name, str(version), reason=decision)
        record(settings, family_name, str(version), decision=decision)


def review_canary(
    settings: Settings,
    key: str,
    *,
    events: pd.DataFrame | None = None,
    now: datetime | None = None,
) -> CanaryReview:
    """Review canary ``key`` once (see the module) on ``events`` (default: the event
    store's events of the experiment)."""
    from registry.loop_trace import record

    now = now or datetime.now(UTC)
    store = StateStore(settings)
    spec = store.spec(key)
    candidate = spec.arms[spec.arm_names[1]]
    if events is None:
        events = read_events(settings, key)
    step = advance(settings, key, events, now=now)
    if step.action == "not running":
        return CanaryReview(key, "not running", step.reason, step.stage)
    if step.action == "halted":
        _withdraw(settings, candidate, f"rolled back by canary {key}: {step.reason}")
        return CanaryReview(key, "rolled back", step.reason, step.stage)
    if step.action == "complete":
        try:
            decision = decide(settings, key, events=events, now=now)
        except SampleRatioMismatch as error:
            return CanaryReview(key, "held", str(error), step.stage)
        if decision.decided:
            promoted = [
                f"{p.family} v{p.from_version} -> v{p.to_version}" for p in decision.promotions
            ]
            for family_name, version in candidate.items():
                record(
                    settings,
                    family_name,
                    str(version),
                    decision=f"promoted to champion by canary {key}: {decision.reason}",
                )
            return CanaryReview(key, "promoted", decision.reason, step.stage, promoted)
        reason = decision.reason
    else:
        reason = step.reason
    if now.date() >= spec.stop:
        why = f"expired on {spec.stop} without a decision: {reason}"
        store.stop(key, why, action="expire")
        _withdraw(settings, candidate, f"canary {key} {why}")
        return CanaryReview(key, "expired", why, step.stage)
    action = "waiting" if step.action == "complete" else step.action
    return CanaryReview(key, action, reason, step.stage)
