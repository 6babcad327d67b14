"""Real tuning of the NLU family (tiny preset) on a published mart: trials train for real,
report every epoch through the training hook, are MLflow runs under the study's parent run
with its plots; the CLI fails an experiment whose failure budget is spent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from registry.tracking import client
from tuning.load import parse_tuning_spec
from tuning.runner import run_experiment
from tuning.tracking import PARENT_TAG, TRIAL_TAG

ROOT = Path(__file__).resolve().parents[2]


def test_nlu_trials_train_on_the_published_commit_and_are_tracked(published, spec_dict, tmp_path):
    settings, commit = published
    data = spec_dict(
        name="nlu-real",
        max_trials=3,
        parallel=2,
        fixed=("epochs=3",),
        early_stopping={"min_trials_required": "2", "start_step": "2"},
    )
    data["spec"]["objective"]["additionalMetricNames"] = ["val_loss", "validation_slot_f1_all"]
    spec = parse_tuning_spec(data, "nlu-real.yaml")
    lines: list[str] = []
    result = run_experiment(spec, settings, tuned_dir=tmp_path / "tuned", log=lines.append)

    assert (result.status.state, result.status.reason) == (
        "Succeeded",
        "ExperimentMaxTrialsReached",
    )
    assert result.commit == commit
    assert result.study.user_attrs["lake_commit"] == commit
    assert sum(line.startswith("trial ") for line in lines) == 3
    best = result.best
    assert 0 <= best.value <= 1
    assert set(best.user_attrs["metrics"]) == {
        "val_intent_accuracy",
        "val_loss",
        "validation_slot_f1_all",
    }

    mlflow = client(settings)
    experiment = mlflow.get_experiment_by_name("tune-nlu-real")
    runs = mlflow.search_runs([experiment.experiment_id])
    parent = [r for r in runs if r.data.tags.get(PARENT_TAG) == "true"]
    trials = [r for r in runs if TRIAL_TAG in r.data.tags]
    assert len(parent) == 1 and len(trials) == 3
    parent_id = parent[0].info.run_id
    assert all(r.data.tags["mlflow.parentRunId"] == parent_id for r in trials)
    for run in trials:
        assert {"lr", "dropout", "config.learning_rate", "config.epochs"} <= set(run.data.params)
        history = mlflow.get_metric_history(run.info.run_id, "val_intent_accuracy")
        epochs = result.study.trials[int(run.data.tags[TRIAL_TAG])].user_attrs["epochs"]
        assert [m.step for m in history] == list(range(1, epochs + 1))  # one per epoch
    plots = {a.path for a in mlflow.list_artifacts(parent_id, "plots")}
    assert "plots/optimization_history.png" in plots
    assert {p.name for p in result.plots} <= {Path(p).name for p in plots}
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in result.plots)

    assert result.proposal.path == tmp_path / "tuned" / "nlu-real.yaml"
    assert not (ROOT / "training" / "nlu" / "tuned" / "nlu-real.yaml").exists()


def test_the_cli_fails_an_experiment_that_spends_its_failure_budget(
    published, spec_dict, tmp_path, mlflow_uri
):
    settings, _ = published
    batch = {"name": "batch", "parameterType": "discrete", "feasibleSpace": {"list": ["0"]}}
    data = spec_dict(name="nlu-broken", max_trials=4, max_failed=2, parameters=[batch])
    spec_path = tmp_path / "nlu-broken.yaml"
    import yaml

    spec_path.write_text(yaml.safe_dump(data))
    env = os.environ | {
        "VOICEOPS_HOME": str(settings.home),
        "VOICEOPS_LAKE_FSYNC": "false",
        "MLFLOW_TRACKING_URI": mlflow_uri,
        "VOICEOPS_PROGRESS": "0",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "voiceops.cli",
            "tune",
            str(spec_path),
            "--tuned-dir",
            str(tmp_path / "tuned"),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "error: experiment nlu-broken failed: 2 trials failed, maxFailedTrialCount is 2" in (
        done.stderr
    )
    assert "trial 0: batch_size=0 -> failed" in done.stdout
    assert not (tmp_path / "tuned").exists()


def test_a_cluster_trial_prints_metric_lines_katibs_collector_parses(published):
    import re

    from tuning.render import METRICS_FORMAT
    from tuning.trial import run_trial

    settings, commit = published
    lines: list[str] = []
    final = run_trial(
        settings, "nlu", "tiny", ["epochs=2", "learning_rate=0.01"], commit, out=lines.append
    )
    assert [line.split()[0] for line in lines[:2]] == ["epoch=1", "epoch=2"]
    parsed = [dict((m[0], float(m[1])) for m in re.findall(METRICS_FORMAT, line)) for line in lines]
    assert {"val_intent_accuracy", "val_loss"} <= set(parsed[0])
    assert parsed[-1]["validation_intent_accuracy_all"] == final["validation_intent_accuracy_all"]
