"""One trial: sample the parameters, train the family with them, report each epoch (for
pruning and MLflow), and return the objective metric taken by its Katib strategy.

A trial fails (Optuna ``FAIL``, Katib ``Failed``) when training raises, when the objective
is NaN or infinite, or when it is never reported (Katib's ``MetricsUnavailable``).
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from core.errors import VoiceOpsError
from tuning.load import TuningSpec
from tuning.space import suggest
from tuning.status import OVER_BUDGET
from tuning.tracking import StudyTracker

#: ``train(config, run_dir, on_epoch) -> final metrics`` (flat names, e.g.
#: ``validation_intent_accuracy_all``); epoch metrics go to ``on_epoch(epoch, logs)``.
TrainFn = Callable[[Any, Path, Callable[[int, dict[str, float]], None]], Mapping[str, float]]


SLOT_POLL_S = 0.2


class TrialFailed(VoiceOpsError):
    """A trial that trained but has no usable objective value."""


def flat_metrics(scores: Mapping[str, Any]) -> dict[str, float]:
    """``{split: {language: {metric: value}}}`` -> ``{split_metric_language: value}``."""
    flat: dict[str, float] = {}
    for split, languages in scores.items():
        for language, metrics in languages.items():
            for metric, value in metrics.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    flat[f"{split}_{metric}_{language}"] = float(value)
    return flat


def take(values: list[float], strategy: str) -> float:
    """A metric's trial value from its reports: ``min``, ``max`` or ``latest``."""
    return {"min": min, "max": max}.get(strategy, lambda v: v[-1])(values)


class Objective:
    """The callable Optuna runs per trial."""

    def __init__(
        self,
        spec: TuningSpec,
        config_class: Any,
        train: TrainFn,
        run_root: Path,
        tracker: StudyTracker | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        self.spec, self.config_class, self.train = spec, config_class, train
        self.run_root, self.tracker, self.log = Path(run_root), tracker, log

    def __call__(self, trial: optuna.Trial) -> float:
        body = self.spec.body
        if body.maxTrialCount is not None and trial.number >= body.maxTrialCount:
            trial.set_user_attr(OVER_BUDGET, True)  # another worker took the last slot
            raise optuna.TrialPruned("over maxTrialCount")
        _wait_for_slot(trial, body.parallelTrialCount)
        values = {p.name: suggest(trial, p) for p in body.parameters}
        sets = self.spec.command.sets(values)
        trial.set_user_attr("sets", sets)
        config = self.config_class.preset(self.spec.command.size, sets)
        run_id = (
            self.tracker.start_trial(trial.number, values, config.to_dict())
            if self.tracker
            else None
        )
        if run_id:
            trial.set_user_attr("mlflow_run_id", run_id)
        report = _Reports(self.spec, trial, self.tracker, run_id)
        run_dir = self.run_root / f"trial-{trial.number}"
        started = time.perf_counter()
        shown = " ".join(sets)
        try:
            final = self.train(config, run_dir, report.on_epoch)
            value = report.finish(final)
        except optuna.TrialPruned:
            self._finish(run_id, "KILLED", f"pruned at epoch {report.epochs}")
            self.log(f"trial {trial.number}: {shown} -> pruned at epoch {report.epochs}")
            raise
        except Exception as error:
            reason = " ".join(str(error).split()) or type(error).__name__
            trial.set_user_attr("error", reason[:2000])
            self._finish(run_id, "FAILED", reason)
            self.log(f"trial {trial.number}: {shown} -> failed: {reason[:300]}")
            raise
        finally:
            trial.set_user_attr("epochs", report.epochs)
            shutil.rmtree(run_dir / "saved_model", ignore_errors=True)  # configs are the result
        self._finish(run_id, "FINISHED")
        seconds = time.perf_counter() - started
        self.log(
            f"trial {trial.number}: {shown} -> {body.objective.objectiveMetricName} "
            f"{value:.4f} ({report.epochs} epochs, {seconds:.1f} s)"
        )
        return value

    def _finish(self, run_id: str | None, state: str, note: str = "") -> None:
        if self.tracker and run_id:
            self.tracker.finish_trial(run_id, state, note)


def _wait_for_slot(trial: optuna.Trial, parallel: int) -> None:
    """Start training only when fewer than ``parallel`` lower-numbered trials still run:
    workers in other processes may have started trials at the same moment, and trial
    numbers order them, so at most ``parallel`` trials of the study train at once."""
    while True:
        running = trial.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        before = [
            t for t in running if t.number < trial.number and not t.user_attrs.get(OVER_BUDGET)
        ]
        if len(before) < parallel:
            return
        time.sleep(SLOT_POLL_S)


class _Reports:
    """A trial's metric reports: per epoch (pruning, MLflow) and final."""

    def __init__(
        self,
        spec: TuningSpec,
        trial: optuna.Trial,
        tracker: StudyTracker | None,
        run_id: str | None,
    ) -> None:
        self.objective = spec.body.objective
        self.trial, self.tracker, self.run_id = trial, tracker, run_id
        self.seen: dict[str, list[float]] = {name: [] for name in self.objective.metric_names}
        self.epochs = 0
        self.epoch_names: list[str] = []

    def on_epoch(self, epoch: int, logs: dict[str, float]) -> None:
        self.epochs, self.epoch_names = epoch, sorted(logs)
        if self.tracker and self.run_id:
            self.tracker.log_metrics(self.run_id, logs, epoch)
        for name, values in self.seen.items():
            if name in logs:
                values.append(logs[name])
        name = self.objective.objectiveMetricName
        if name not in logs:
            return
        if not math.isfinite(logs[name]):
            raise TrialFailed(f"{name} is {logs[name]} at epoch {epoch}")
        self.trial.report(logs[name], epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned at epoch {epoch}")

    def finish(self, final: Mapping[str, float]) -> float:
        """The objective value after training; the other metrics kept on the trial."""
        if self.tracker and self.run_id:
            self.tracker.log_metrics(self.run_id, dict(final), self.epochs)
        for name, values in self.seen.items():
            if name in final:
                values.append(float(final[name]))
        taken = {
            name: take(values, self.objective.strategy(name))
            for name, values in self.seen.items()
            if values
        }
        self.trial.set_user_attr("metrics", taken)
        name = self.objective.objectiveMetricName
        if name not in taken:
            known = ", ".join(sorted({*self.epoch_names, *final})) or "none"
            raise TrialFailed(f"objective metric {name!r} was not reported (reported: {known})")
        if not math.isfinite(taken[name]):
            raise TrialFailed(f"{name} is {taken[name]}")
        return taken[name]
