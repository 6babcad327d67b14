"""Run a tuning spec locally: Optuna study on the shared storage, ``parallelTrialCount``
trials at once, Katib's stop rules, then plots and the proposal of the best trial.

Several ``voiceops tune`` processes (on several machines, with one ``--storage`` URL) join
the same study by its name: each counts the study's trials before starting one, so the
experiment's ``parallelTrialCount`` and ``maxTrialCount`` hold over all of them (a trial
two processes start at once beyond the budget is marked and left out).
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from core.errors import InputError
from core.settings import Settings, redact_url
from core.trail import open_trail, record
from training.families import family as get_family
from tuning.algorithms import pruner, sampler
from tuning.load import TuningSpec
from tuning.objective import Objective, TrainFn, flat_metrics
from tuning.plots import save_plots
from tuning.proposal import Proposal, write_proposal
from tuning.space import grid_size
from tuning.status import SUCCEEDED, ExperimentStatus, counted, experiment_status, may_start
from tuning.storage import open_storage, storage_url
from tuning.tracking import StudyTracker

if TYPE_CHECKING:
    from training.common.callbacks import EpochHook

POLL_S = 0.5
COMMIT_ATTR = "lake_commit"


@dataclass(frozen=True)
class TuningResult:
    """How the experiment ended, its best trial and what was written."""

    status: ExperimentStatus
    best: FrozenTrial | None
    storage: str  # redacted
    commit: str | None
    plots: list[Path]
    proposal: Proposal | None
    study: optuna.Study


def _direction(spec: TuningSpec) -> str:
    return "maximize" if spec.body.objective.type == "maximize" else "minimize"


def family_trainer(spec: TuningSpec, settings: Settings, commit: str) -> TrainFn:
    """Training of the spec's family on its mart rows at lake commit ``commit`` (read once,
    shared by every trial)."""
    family = get_family(spec.family)
    rows = family.load_rows(settings, commit)
    if not rows:
        raise InputError(f"{family.mart} has no rows at lake commit {commit}")

    def train(config: Any, run_dir: Path, on_epoch: EpochHook) -> dict[str, float]:
        return flat_metrics(family.run(rows, config, run_dir, on_epoch=on_epoch).scores)

    return train


def _commit(study: optuna.Study, settings: Settings, commit: str | None) -> str:
    """The lake commit every trial trains on: asked for, the study's, or the published one."""
    if commit is None:
        commit = study.user_attrs.get(COMMIT_ATTR)
    if commit is None:
        from training.common.data import published_commit

        commit = published_commit(settings)
    if commit is None:
        raise InputError("nothing is published yet: run the pipeline (make demo) first")
    study.set_user_attr(COMMIT_ATTR, commit)
    return commit


class _Workers:
    """Threads that each start one trial at a time while the experiment allows it."""

    def __init__(self, study: optuna.Study, objective: Objective, spec: TuningSpec) -> None:
        self.study, self.objective, self.body = study, objective, spec.body
        grid = self.body.algorithm.algorithmName == "grid"
        self.grid_points = grid_size(self.body.parameters) if grid else None
        self.lock = threading.Lock()
        self.starting = 0  # claimed here, not yet a trial in the storage
        self.errors: list[BaseException] = []
        self.ended: ExperimentStatus | None = None  # the condition that first ended it

    def status(self) -> ExperimentStatus:
        trials = self.study.get_trials(deepcopy=False)
        return experiment_status(self.body, trials, self.grid_points)

    def final_status(self) -> ExperimentStatus:
        """The counts now, with the condition that ended the experiment (as Katib, a trial
        still running then does not change the outcome)."""
        status = self.status()
        if self.ended is None:
            return status
        return replace(
            status, state=self.ended.state, reason=self.ended.reason, message=self.ended.message
        )

    def _claim(self) -> str:
        with self.lock:
            status = self.status()
            if status.finished:
                self.ended = self.ended or status
                return "done"
            pending = replace(status, running=status.running + self.starting)
            if may_start(self.body, pending, self.grid_points):
                self.starting += 1
                return "start"
            return "wait"

    def _created(self) -> None:
        with self.lock:
            self.starting -= 1

    def _run_one(self) -> None:
        created = threading.Event()

        def objective(trial: optuna.Trial) -> float:
            self._created()
            created.set()
            return self.objective(trial)

        try:
            self.study.optimize(objective, n_trials=1, catch=(Exception,), gc_after_trial=True)
        finally:
            if not created.is_set():
                self._created()

    def work(self) -> None:
        try:
            while True:
                claim = self._claim()
                if claim == "done":
                    return
                if claim == "wait":
                    time.sleep(POLL_S)
                    continue
                self._run_one()
        except BaseException as error:  # storage down, ...: reported by run_experiment
            self.errors.append(error)

    def run(self, threads: int) -> None:
        # daemon threads: Ctrl-C ends the process; the storage's heartbeat check then fails
        # the trials they were running
        pool = [
            threading.Thread(target=self.work, name=f"tune-{i}", daemon=True)
            for i in range(threads)
        ]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        if self.errors:
            raise self.errors[0]


def best_trial(study: optuna.Study) -> FrozenTrial | None:
    done = [t for t in counted(study.get_trials()) if t.state == TrialState.COMPLETE]
    if not done:
        return None
    pick = max if study.direction == optuna.study.StudyDirection.MAXIMIZE else min
    return pick(done, key=lambda t: t.value)


def run_experiment(
    spec: TuningSpec,
    settings: Settings,
    *,
    storage: str | None = None,
    commit: str | None = None,
    workers: int | None = None,
    fresh: bool = False,
    train: TrainFn | None = None,
    tuned_dir: Path | None = None,
    log: Callable[[str], None] = print,
) -> TuningResult:
    """Run ``spec`` until Katib's rules end it (``train`` replaces the family's training,
    e.g. in tests; ``workers`` defaults to ``parallelTrialCount`` threads)."""
    body = spec.body
    if body.maxTrialCount is None and body.algorithm.algorithmName != "grid":
        raise InputError(
            f"{spec.source}: spec.maxTrialCount: required to run locally (only a grid ends "
            "by itself)"
        )
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # each trial prints its own line
    logging.getLogger("optuna").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    url = storage_url(settings, storage)
    rdb = open_storage(url)
    if fresh and spec.name in {s.study_name for s in optuna.get_all_study_summaries(rdb)}:
        optuna.delete_study(study_name=spec.name, storage=rdb)
    study = optuna.create_study(
        study_name=spec.name,
        storage=rdb,
        sampler=sampler(body),
        pruner=pruner(body),
        direction=_direction(spec),
        load_if_exists=True,
    )
    pinned = None
    if train is None:
        pinned = _commit(study, settings, commit)
        train = family_trainer(spec, settings, pinned)
    tracker = StudyTracker(settings, spec.name, redact_url(url))
    family = get_family(spec.family)
    config_class = getattr(family.module("config"), family.config_class_name)
    study_dir = Path(settings.home) / "tuning" / spec.name
    objective = Objective(spec, config_class, train, study_dir / "trials", tracker, log)
    pool = _Workers(study, objective, spec)
    pool.run(workers or body.parallelTrialCount)
    status = pool.final_status()
    best = best_trial(study)
    plots = save_plots(study, study_dir / "plots", log)
    summary = {"state": status.state, "reason": status.reason, "message": status.message}
    if best is not None:
        summary |= {"best_trial": str(best.number), "best_value": f"{best.value:.6g}"}
    tracker.log_study(summary, plots)
    proposal = None
    if status.state == SUCCEEDED and best is not None:
        trail = open_trail(settings)
        proposal = write_proposal(spec, config_class, best, pinned, tuned_dir)
        record(
            trail,
            "tuning.proposed",
            f"tuning:{spec.family}/{spec.name}",
            {
                "proposal": str(proposal.path),
                "trial": best.number,
                "value": best.value,
                "overrides": {k: repr(v) for k, v in proposal.overrides.items()},
                "lake_commit": pinned,
            },
        )
    return TuningResult(status, best, redact_url(url), pinned, plots, proposal, study)
