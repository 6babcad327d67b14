"""The decision of an experiment: promote the winning arm's versions, or "no decision".

:func:`decide` analyses the experiment's events and decides only on trustworthy, sufficient
evidence:

1. no sample-ratio mismatch (else :class:`~experiments.analysis.SampleRatioMismatch`);
2. a winner by the rules of :func:`experiments.verdict.winner`: enough users per arm,
   guardrails holding, and the primary metric significantly better (or, for a canary that
   only has to hold, no metric worse).

Then each family of the winning arm whose version is not already the champion is promoted
through :func:`registry.aliases.promote` with the experiment as ``evidence`` and the analysis
summary as the reason (one promotion per family), and the decision is recorded in the
experiment's state. Otherwise nothing is promoted and the result is "no decision" with why.
Either outcome (not a dry run) is appended to the trail (:mod:`core.trail`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from core.settings import Settings
from core.trail import Trail, open_trail, record
from experiments.analysis import Analysis, analyze
from experiments.spec import ExperimentSpec, SpecsDirs
from experiments.state import ExperimentStateError, StateStore
from experiments.verdict import winner

if TYPE_CHECKING:
    import pandas as pd

NO_DECISION = "no decision"


@dataclass(frozen=True)
class Promotion:
    """One family moved to the winner's version (or, in a dry run, that would be)."""

    family: str
    from_version: str | None
    to_version: str
    reason: str


@dataclass(frozen=True)
class Decision:
    """The outcome of :func:`decide`."""

    key: str
    outcome: Literal["promote", "no decision"]
    winner: str | None
    reason: str
    analysis: Analysis
    promotions: list[Promotion] = field(default_factory=list)
    dry_run: bool = False

    @property
    def decided(self) -> bool:
        return self.outcome == "promote"

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "outcome": self.outcome,
            "winner": self.winner,
            "reason": self.reason,
            "dry_run": self.dry_run,
            "promotions": [p.__dict__ for p in self.promotions],
            "summary": self.analysis.summary(),
        }


def read_events(settings: Settings, key: str) -> pd.DataFrame:
    """The experiment's events from the serving API's event store."""
    from experiments.event_store import EventStore

    with EventStore.from_settings(settings) as store:
        return store.read_frame(experiment=key)


def decide(
    settings: Settings,
    key: str,
    *,
    events: pd.DataFrame | None = None,
    dry_run: bool = False,
    specs_dir: SpecsDirs | None = None,
    now: datetime | None = None,
) -> Decision:
    """Decide experiment ``key`` (see the module); ``dry_run`` changes nothing."""
    trail = None if dry_run else open_trail(settings)
    store = StateStore(settings, specs_dir)
    spec = store.spec(key)
    state = store.get(key)
    if state.status not in ("running", "stopped"):
        raise ExperimentStateError(f"experiment {key} is {state.status}: nothing to decide")
    if events is None:
        events = read_events(settings, key)
    weights = None
    if spec.rollout is not None:
        from experiments.rollout import comparable_stage, stage_events

        stage, since, until = comparable_stage(store, spec)
        weights = spec.weights_at(stage)
        events = stage_events(events, since, until)
    analysis = analyze(spec, events, weights=weights)
    arm, why = winner(spec, analysis)
    if arm is not None and _before_last_stage(spec, state.stage):
        arm = None
        why = (
            f"the rollout is at stage {state.stage + 1} of {len(spec.rollout.steps)}: "  # type: ignore[union-attr]
            "a canary that only has to hold is decided at its last stage"
        )
    if arm is None:
        decision = Decision(key, NO_DECISION, None, why, analysis, dry_run=dry_run)
        if trail is not None:
            store.note(key, NO_DECISION, why)
            _record(trail, decision)
        return decision
    reason = f"{why}; {analysis.summary()}"
    promotions = _promote(settings, spec, arm, reason, dry_run)
    decision = Decision(key, "promote", arm, reason, analysis, promotions, dry_run)
    if trail is not None:
        store.record_decision(key, f"promoted {arm}: {reason}")
        _record(trail, decision)
    return decision


def _record(trail: Trail, decision: Decision) -> None:
    """The decision in the trail (its promotions are entries of their own, by the registry)."""
    record(
        trail,
        "experiment.decision",
        f"experiment:{decision.key}",
        {
            "outcome": decision.outcome,
            "winner": decision.winner,
            "reason": decision.reason,
            "promotions": [p.__dict__ for p in decision.promotions],
        },
    )


def _before_last_stage(spec: ExperimentSpec, stage: int) -> bool:
    """A "holds" canary not yet at its last stage (it is not decided before)."""
    rollout = spec.rollout
    if rollout is None or rollout.promote_when != "holds":
        return False
    return stage < len(rollout.steps) - 1


def _promote(
    settings: Settings, spec: ExperimentSpec, arm: str, reason: str, dry_run: bool
) -> list[Promotion]:
    """One promotion per family whose champion is not already the winner's version."""
    from registry.aliases import promote
    from registry.tracking import client
    from registry.versions import CHAMPION, aliases
    from training.families import family

    mlflow = client(settings)
    promotions = []
    for family_name, version in spec.arms[arm].items():
        champion = aliases(mlflow, family(family_name).model_name).get(CHAMPION)
        if champion == str(version):
            continue
        if dry_run:
            promotions.append(Promotion(family_name, champion, str(version), reason))
            continue
        move = promote(settings, family_name, str(version), reason=reason, evidence=spec.key)
        promotions.append(Promotion(family_name, move.from_version, move.to_version, move.reason))
    return promotions
