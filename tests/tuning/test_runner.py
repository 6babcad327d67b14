"""Katib's semantics on a real Optuna study, with a cheap objective in place of training:
goal stop, the failure budget, max trials, medianstop pruning, parallel trials sharing one
storage (SQLite and Postgres), and the proposal that is written but never applied."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from optuna.trial import TrialState

from core.settings import Settings
from core.trail import open_trail
from training.nlu.config import NLUConfig
from tuning.load import parse_tuning_spec
from tuning.runner import run_experiment
from tuning.status import OVER_BUDGET


class FakeTraining:
    """Epochs of a made-up learning curve: accuracy rises to ``1 - |lr - 0.01| * 10`` (best at
    lr = 0.01); a learning rate above ``fail_above`` raises (a planted failing region)."""

    def __init__(self, fail_above: float = math.inf, seconds: float = 0.0) -> None:
        self.fail_above, self.seconds = fail_above, seconds
        self.epochs = 0
        self.running = self.most_running = 0
        self.lock = threading.Lock()

    def __call__(self, config: Any, run_dir: Path, on_epoch) -> dict[str, float]:
        with self.lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            if config.learning_rate > self.fail_above:
                raise FloatingPointError(f"loss diverged at learning_rate {config.learning_rate}")
            ceiling = 1 - abs(config.learning_rate - 0.01) * 10
            for epoch in range(1, config.epochs + 1):
                time.sleep(self.seconds)
                with self.lock:
                    self.epochs += 1
                on_epoch(epoch, {"val_intent_accuracy": ceiling * epoch / config.epochs})
            return {"validation_intent_accuracy_all": ceiling}
        finally:
            with self.lock:
                self.running -= 1


def _run(spec: dict, settings: Settings, tmp_path: Path, train: FakeTraining, **kwargs):
    tuning_spec = parse_tuning_spec(spec, "test.yaml")
    return run_experiment(
        tuning_spec,
        settings,
        train=train,
        tuned_dir=tmp_path / "tuned",
        log=lambda _: None,
        **kwargs,
    )


def test_the_goal_ends_the_experiment_as_succeeded(spec_dict, home_settings, tmp_path):
    lr = {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.001", "max": "0.05"}}
    spec = spec_dict(goal=0.5, max_trials=30, parameters=[lr])
    result = _run(spec, home_settings, tmp_path, FakeTraining())
    assert result.status.state == "Succeeded"
    assert result.status.reason == "ExperimentGoalReached"
    assert result.best.value >= 0.5
    assert result.status.trials < 30  # stopped by the goal, not the budget


def test_max_trial_count_ends_it_as_succeeded(spec_dict, home_settings, tmp_path):
    result = _run(spec_dict(max_trials=5), home_settings, tmp_path, FakeTraining())
    assert (result.status.state, result.status.reason) == (
        "Succeeded",
        "ExperimentMaxTrialsReached",
    )
    assert len(result.study.trials) == 5


def test_failed_trials_reaching_the_budget_fail_the_experiment(spec_dict, home_settings, tmp_path):
    spec = spec_dict(max_trials=20, max_failed=3)
    result = _run(spec, home_settings, tmp_path, FakeTraining(fail_above=0.004))
    status = result.status
    assert (status.state, status.reason) == ("Failed", "ExperimentFailed")
    assert status.failed == 3
    assert "3 trials failed" in status.message
    failed = [t for t in result.study.trials if t.state == TrialState.FAIL]
    assert all("diverged" in t.user_attrs["error"] for t in failed)
    assert all(t.params["lr"] > 0.004 for t in failed)
    assert result.proposal is None  # a failed experiment proposes nothing


def test_nan_objective_is_a_failed_trial(spec_dict, home_settings, tmp_path):
    def nan_training(config, run_dir, on_epoch):
        on_epoch(1, {"val_intent_accuracy": float("nan")})
        return {}

    spec = spec_dict(max_trials=3, max_failed=2)
    tuning_spec = parse_tuning_spec(spec, "test.yaml")
    result = run_experiment(tuning_spec, home_settings, train=nan_training, log=lambda _: None)
    assert result.status.state == "Failed"
    assert "nan" in result.study.trials[0].user_attrs["error"]


def test_medianstop_spends_fewer_epochs_than_no_early_stopping(spec_dict, tmp_path, mlflow_uri):
    spent = {}
    for name, early in (
        ("plain", None),
        ("pruned", {"min_trials_required": "2", "start_step": "2"}),
    ):
        spec = spec_dict(
            name=f"nlu-{name}", max_trials=10, early_stopping=early, fixed=("epochs=6",)
        )
        training = FakeTraining()
        settings = Settings(home=tmp_path / name, mlflow_tracking_uri=mlflow_uri)
        result = _run(spec, settings, tmp_path / name, training)
        spent[name] = (training.epochs, result)
    plain_epochs, _ = spent["plain"]
    pruned_epochs, pruned = spent["pruned"]
    assert plain_epochs == 10 * 6
    assert pruned.status.pruned >= 1
    assert pruned_epochs < plain_epochs
    pruned_trials = [t for t in pruned.study.trials if t.state == TrialState.PRUNED]
    assert all(2 <= t.user_attrs["epochs"] < 6 for t in pruned_trials)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_parallel_workers_share_one_study(backend, spec_dict, tmp_path, request, mlflow_uri):
    """Two runners (as on two machines) on one storage: the study holds maxTrialCount trials,
    never more than parallelTrialCount run at once, and the second runner joined the first's
    study instead of starting its own."""
    storage = None
    if backend == "postgres":
        storage = request.getfixturevalue("postgres_url")
    settings = Settings(home=tmp_path / "home", mlflow_tracking_uri=mlflow_uri)
    spec = spec_dict(name=f"nlu-parallel-{backend}", max_trials=10, parallel=3, fixed=("epochs=3",))
    training = FakeTraining(seconds=0.05)
    results: list[Any] = []

    def worker(workers: int) -> None:
        results.append(_run(spec, settings, tmp_path, training, storage=storage, workers=workers))

    threads = [threading.Thread(target=worker, args=(n,)) for n in (2, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    study = results[0].study
    counted = [t for t in study.trials if not t.user_attrs.get(OVER_BUDGET)]
    assert len(counted) == 10
    assert all(t.state == TrialState.COMPLETE for t in counted)
    assert 2 <= training.most_running <= 3
    assert {r.status.state for r in results} == {"Succeeded"}
    if backend == "postgres":
        assert results[0].storage.startswith("postgresql://")


def test_the_best_config_is_proposed_and_never_applied(spec_dict, home_settings, tmp_path):
    result = _run(spec_dict(max_trials=6), home_settings, tmp_path, FakeTraining())
    proposal = result.proposal
    assert proposal.path == tmp_path / "tuned" / "nlu-test.yaml"
    text = proposal.path.read_text()
    assert "Training\n# never reads this file" in text
    best_lr = result.best.params["lr"]
    assert proposal.overrides["learning_rate"] == pytest.approx(best_lr)
    assert f"+learning_rate: {best_lr!r}" in proposal.diff
    assert "-learning_rate: 0.001" in proposal.diff
    # the preset training uses is unchanged: nothing reads the proposal
    assert NLUConfig.preset("tiny", []) == NLUConfig.tiny()
    assert NLUConfig.tiny().learning_rate == 0.001
    (entry,) = open_trail(home_settings).entries(action="tuning.proposed")
    assert entry.subject == "tuning:nlu/nlu-test"
    assert entry.details_dict()["proposal"] == str(proposal.path)
