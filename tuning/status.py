"""Katib's stop rules over a study's trials: when an experiment succeeds, fails or runs on.

In Katib's order (its experiment controller): the objective goal reached by a completed
trial -> Succeeded; failed trials reaching ``maxFailedTrialCount`` -> Failed; finished trials
(succeeded, failed, early-stopped) reaching ``maxTrialCount`` -> Succeeded; a grid with no
point left and nothing running -> Succeeded. Trials started beyond ``maxTrialCount`` by a
racing worker are marked and left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from optuna.trial import FrozenTrial, TrialState

from tuning.spec import ExperimentBody

OVER_BUDGET = "voiceops_over_budget"
RUNNING, SUCCEEDED, FAILED = "Running", "Succeeded", "Failed"


@dataclass(frozen=True)
class ExperimentStatus:
    """Counts of the experiment's trials and its condition (Katib's reasons)."""

    state: str  # Running | Succeeded | Failed
    reason: str  # ExperimentGoalReached, ExperimentMaxTrialsReached, ...
    message: str
    succeeded: int
    failed: int
    pruned: int
    running: int

    @property
    def finished(self) -> bool:
        return self.state != RUNNING

    @property
    def trials(self) -> int:
        return self.succeeded + self.failed + self.pruned + self.running


def counted(trials: list[FrozenTrial]) -> list[FrozenTrial]:
    """The experiment's trials (those started over the budget left out)."""
    return [t for t in trials if not t.user_attrs.get(OVER_BUDGET)]


def goal_reached(body: ExperimentBody, trials: list[FrozenTrial]) -> bool:
    goal = body.objective.goal
    if goal is None:
        return False
    values = [t.value for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return False
    if body.objective.type == "maximize":
        return max(values) >= goal
    return min(values) <= goal


def experiment_status(
    body: ExperimentBody, trials: list[FrozenTrial], grid_points: int | None = None
) -> ExperimentStatus:
    """The experiment's condition after ``trials`` (all of the study's)."""
    trials = counted(trials)
    states = [t.state for t in trials]
    succeeded = states.count(TrialState.COMPLETE)
    failed = states.count(TrialState.FAIL)
    pruned = states.count(TrialState.PRUNED)
    running = states.count(TrialState.RUNNING) + states.count(TrialState.WAITING)
    finished = succeeded + failed + pruned

    def status(state: str, reason: str, message: str) -> ExperimentStatus:
        return ExperimentStatus(state, reason, message, succeeded, failed, pruned, running)

    if goal_reached(body, trials):
        return status(
            SUCCEEDED,
            "ExperimentGoalReached",
            f"the objective goal {body.objective.goal:g} was reached",
        )
    limit = body.maxFailedTrialCount
    if limit is not None and failed and failed >= limit:
        return status(
            FAILED,
            "ExperimentFailed",
            f"{failed} trials failed, maxFailedTrialCount is {limit}",
        )
    if body.maxTrialCount is not None and finished >= body.maxTrialCount:
        return status(
            SUCCEEDED,
            "ExperimentMaxTrialsReached",
            f"{finished} trials finished, maxTrialCount is {body.maxTrialCount}",
        )
    if grid_points is not None and finished >= grid_points and not running:
        return status(
            SUCCEEDED,
            "ExperimentSuggestionEndReached",
            f"all {grid_points} grid points were tried",
        )
    return status(RUNNING, "ExperimentRunning", "running")


def may_start(body: ExperimentBody, status: ExperimentStatus, grid_points: int | None) -> bool:
    """Whether another trial may start now: the experiment runs, a trial slot is free
    (``parallelTrialCount`` over every worker) and the budget has room."""
    if status.finished or status.running >= body.parallelTrialCount:
        return False
    budget = min(
        body.maxTrialCount if body.maxTrialCount is not None else math.inf,
        grid_points if grid_points is not None else math.inf,
    )
    return status.trials < budget
