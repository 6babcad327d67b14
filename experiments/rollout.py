"""Canary rollout: the candidate's share grows stage by stage while its guardrails hold.

A spec with ``rollout: {steps: [0.01, 0.05, 0.25, 1.0], min_users_per_step: N}`` is a canary:
two arms, the control naming the champions and the candidate the new versions. At stage
``i`` the candidate gets ``steps[i]`` of the traffic (:meth:`ExperimentSpec.weights_at`).
:func:`advance` looks at the events of the current stage only (since it began):

- a guardrail the candidate breaks (p99 latency, error rate, handoff rate) halts the canary:
  the experiment is stopped and the rollback recorded; every caller is back on the champion
  at once (a stopped experiment takes no traffic) and the candidate never became champion;
- so does a decision metric significantly worse than the control's, in a canary that only
  has to do no harm (``promote_when: holds``; with ``sequential: true`` its always-valid
  intervals may be looked at after every batch of events);
- a sample-ratio mismatch holds it (the stage's data cannot be trusted);
- fewer than ``min_users_per_step`` candidate users hold it;
- so does, before a stage that gives the control no traffic (the last stage, at 100 %), a
  decision the stage's events would not yet take (:func:`experiments.verdict.winner`: too
  few users per arm, or a "holds" canary's margin not yet shown): once the control is gone
  no evidence can be added, so the decision is earned while both arms share the traffic;
- otherwise it moves to the next stage; at the last one it stays there, ``complete``, until
  ``voiceops experiments decide`` promotes the candidate (or not).

A stage advanced and a canary halted are appended to the trail (:mod:`core.trail`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from core.errors import VoiceOpsError
from core.settings import Settings
from core.trail import Trail, open_trail, record
from experiments.analysis import Analysis, SampleRatioMismatch, analyze
from experiments.spec import ExperimentSpec, SpecsDirs
from experiments.state import StateStore
from experiments.verdict import winner

if TYPE_CHECKING:
    import pandas as pd

Action = Literal["advanced", "held", "halted", "complete", "not running"]
#: Seconds after a stage starts whose events it leaves out: the serving routers refresh
#: every 5 s (``experiments.routing.Router``), and a turn in flight takes a few more.
STAGE_GRACE_S = 15.0


@dataclass(frozen=True)
class RolloutStep:
    """What :func:`advance` did, from which stage to which, and why."""

    key: str
    action: Action
    stage: int
    share: float
    reason: str
    analysis: Analysis | None = None

    def describe(self) -> str:
        return f"{self.key}: {self.action} at stage {self.stage} ({self.share:.0%}): {self.reason}"


def _record(trail: Trail, step: RolloutStep) -> RolloutStep:
    record(
        trail,
        "experiment.rollout",
        f"experiment:{step.key}",
        {"action": step.action, "stage": step.stage, "share": step.share, "reason": step.reason},
    )
    return step


def stage_events(
    events: pd.DataFrame,
    since: float | None,
    until: float | None = None,
    grace_s: float = STAGE_GRACE_S,
) -> pd.DataFrame:
    """The events in ``[since + grace_s, until)`` (epoch seconds; None: unbounded). The
    grace leaves out turns routed by a serving worker that had not yet seen the stage start
    (its router refreshes every few seconds): at 100 % a control turn would otherwise be a
    sample-ratio mismatch."""
    if events.empty or (since is None and until is None):
        return events
    import pandas as pd

    if since is not None:
        since += grace_s

    at = pd.to_datetime(events["occurred_at"], utc=True)
    keep = at == at
    if since is not None:
        keep &= at >= pd.Timestamp(since, unit="s", tz="UTC")
    if until is not None:
        keep &= at < pd.Timestamp(until, unit="s", tz="UTC")
    return events[keep]


def comparable_stage(
    store: StateStore, spec: ExperimentSpec
) -> tuple[int, float | None, float | None]:
    """The latest stage whose traffic both arms shared, and its ``[since, until)``: the
    current stage, or the one before when the candidate now has all the traffic."""
    state = store.get(spec.key)
    starts = {0: state.started_at}
    for transition in store.history(spec.key):
        if transition.action in ("start", "advance"):
            starts[transition.stage] = transition.at
    stage = state.stage
    if spec.weights_at(stage)[spec.control] == 0 and stage > 0:
        return stage - 1, starts.get(stage - 1), starts.get(stage)
    return stage, state.stage_started_at, None


def advance(
    settings: Settings,
    key: str,
    events: pd.DataFrame,
    *,
    now: datetime | None = None,
    specs_dir: SpecsDirs | None = None,
) -> RolloutStep:
    """Advance the canary ``key`` one stage, hold it, or halt and roll it back (see module)."""
    store = StateStore(settings, specs_dir)
    spec = store.spec(key)
    if spec.rollout is None:
        raise VoiceOpsError(f"experiment {key} has no rollout: it is not a canary")
    trail = open_trail(settings)
    state = store.get(key)
    steps = spec.rollout.steps
    share = steps[min(state.stage, len(steps) - 1)]
    if state.status != "running":
        return RolloutStep(key, "not running", state.stage, share, f"experiment is {state.status}")
    candidate = spec.arm_names[1]
    try:
        analysis = analyze(
            spec, stage_events(events, state.stage_started_at), weights=spec.weights_at(state.stage)
        )
    except SampleRatioMismatch as error:
        store.note(key, "hold", str(error))
        return RolloutStep(key, "held", state.stage, share, str(error))
    broken = [g for g in analysis.broken_guardrails if g.arm == candidate]
    if broken:
        reason = (
            f"guardrail broken at {share:.0%}: {'; '.join(g.describe() for g in broken)}; "
            f"rolled back: every caller is on the champion again"
        )
        store.stop(key, reason, action="rollback")
        return _record(trail, RolloutStep(key, "halted", state.stage, share, reason, analysis))
    harm = [c for c in analysis.comparisons if c.arm == candidate and c.worse]
    if harm and spec.rollout.promote_when == "holds":
        listed = "; ".join(
            f"{c.metric} {c.test.difference:+.4g} (CI [{c.ci[0]:+.4g}, {c.ci[1]:+.4g}])"
            for c in harm
        )
        reason = (
            f"candidate significantly worse at {share:.0%}: {listed}; rolled back: every "
            "caller is on the champion again"
        )
        store.stop(key, reason, action="rollback")
        return _record(trail, RolloutStep(key, "halted", state.stage, share, reason, analysis))
    seen = analysis.users[candidate]
    needed = spec.rollout.min_users_per_step
    if seen < needed:
        reason = f"{seen} of {needed} candidate users at {share:.0%}"
        return RolloutStep(key, "held", state.stage, share, reason, analysis)
    if state.stage >= len(steps) - 1:
        reason = f"at {share:.0%} with guardrails holding: ready for a decision"
        return RolloutStep(key, "complete", state.stage, share, reason, analysis)
    stage = state.stage + 1
    if spec.weights_at(stage)[spec.control] == 0:
        arm, why = winner(spec, analysis)
        if arm != candidate:
            reason = (
                f"{seen} candidate users at {share:.0%}, not yet {steps[stage]:.0%}: the "
                f"decision is earned while both arms share the traffic: {why}"
            )
            return RolloutStep(key, "held", state.stage, share, reason, analysis)
    reason = (
        f"{share:.0%} -> {steps[stage]:.0%}: {seen} candidate users, guardrails hold "
        f"({analysis.summary()})"
    )
    store.set_stage(key, stage, reason, now)
    return _record(trail, RolloutStep(key, "advanced", stage, steps[stage], reason, analysis))
