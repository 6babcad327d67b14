"""MLflow for a study: the experiment ``tune-<name>``, a parent run per study holding its
plots, and one child run per trial with its parameters and per-epoch metrics.

Every call names its run id (``MlflowClient``), never the fluent API's active run, so the
trials of parallel threads do not step on each other.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunStatus
from mlflow.exceptions import MlflowException
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME

from core.settings import Settings
from registry.tracking import client

PREFIX = "tune-"
STUDY_TAG = "voiceops.tuning.study"
PARENT_TAG = "voiceops.tuning.parent"
TRIAL_TAG = "voiceops.tuning.trial"


class StudyTracker:
    """The MLflow side of one study."""

    def __init__(self, settings: Settings, name: str, storage: str) -> None:
        self.mlflow: MlflowClient = client(settings)
        self.experiment_name = f"{PREFIX}{name}"
        self.experiment_id = self._experiment(settings)
        self.parent_run_id = self._parent(name, storage)

    def _experiment(self, settings: Settings) -> str:
        found = self.mlflow.get_experiment_by_name(self.experiment_name)
        if found is not None:
            return found.experiment_id
        location = f"{settings.artifact_root}/{self.experiment_name}"
        try:
            return self.mlflow.create_experiment(self.experiment_name, location)
        except MlflowException:  # created by another worker in between
            return self.mlflow.get_experiment_by_name(self.experiment_name).experiment_id

    def _parent(self, name: str, storage: str) -> str:
        """The study's parent run (shared by every worker of the study)."""
        found = self.mlflow.search_runs(
            [self.experiment_id],
            f"tags.`{STUDY_TAG}` = '{name}' and tags.`{PARENT_TAG}` = 'true'",
            max_results=1,
        )
        if found:
            return found[0].info.run_id
        run = self.mlflow.create_run(
            self.experiment_id,
            tags={STUDY_TAG: name, PARENT_TAG: "true", MLFLOW_RUN_NAME: f"study {name}"},
        )
        self.mlflow.log_param(run.info.run_id, "storage", storage)
        return run.info.run_id

    def start_trial(self, number: int, params: dict[str, object], config: dict) -> str:
        """A child run for trial ``number`` with its sampled parameters and config."""
        run = self.mlflow.create_run(
            self.experiment_id,
            tags={
                MLFLOW_PARENT_RUN_ID: self.parent_run_id,
                TRIAL_TAG: str(number),
                MLFLOW_RUN_NAME: f"trial {number}",
            },
        )
        values = {**{f"config.{k}": v for k, v in config.items()}, **params}
        self.mlflow.log_batch(
            run.info.run_id, params=[Param(k, str(v)[:6000]) for k, v in values.items()]
        )
        return run.info.run_id

    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int) -> None:
        now = int(time.time() * 1000)
        batch = [Metric(k, v, now, step) for k, v in metrics.items() if math.isfinite(v)]
        if batch:
            self.mlflow.log_batch(run_id, metrics=batch)

    def finish_trial(self, run_id: str, state: str, note: str = "") -> None:
        """``state``: FINISHED, FAILED or KILLED (a pruned trial)."""
        if note:
            self.mlflow.set_tag(run_id, "voiceops.tuning.outcome", note[:5000])
        self.mlflow.set_terminated(run_id, RunStatus.to_string(getattr(RunStatus, state)))

    def log_study(self, summary: dict[str, str], plots: list[Path]) -> None:
        """The study's outcome as tags and its plots as artifacts of the parent run."""
        for key, value in summary.items():
            self.mlflow.set_tag(self.parent_run_id, f"voiceops.tuning.{key}", value)
        for path in plots:
            self.mlflow.log_artifact(self.parent_run_id, str(path), "plots")
