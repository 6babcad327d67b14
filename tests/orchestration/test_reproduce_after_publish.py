"""``voiceops models reproduce`` after ``published`` has moved past a version's
commit. The recorded commit is loaded into its own ``repro_<commit>`` schema, dbt builds it,
and the retrained model matches the recorded data hash and test metrics; ``published`` is
left where it was."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from core.settings import Settings
from tests.pipeline_days import publish_day
from training.common.data import published_commit, read_mart
from voiceops.cli import app

pytestmark = pytest.mark.slow


def test_reproduce_rebuilds_the_recorded_commit_once_published_moved_on(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.runs import train_models
    from voiceops.cli.models import register_trained_models

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    first = publish_day(settings, 1, calls=700)
    trained = train_models("tiny", families=("nlu",))["nlu"]
    assert trained["lake_commit"] == first
    register_trained_models()

    second = publish_day(settings, 2, calls=150)
    assert second != first and published_commit(settings) == second

    result = CliRunner().invoke(app, ["models", "reproduce", "nlu", "1", "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["lake_commit"] == first
    assert report["data_hash_matches"] is True
    assert report["ok"] is True and "intent_accuracy[all]" in report["differences"]

    schema = f"repro_{first[:12]}"
    rebuilt = read_mart(settings, "nlu_examples", commit=first, schema=schema)
    assert len(rebuilt) == sum(trained["data_rows"].values())
    assert published_commit(settings) == second  # the published warehouse was not touched

    wrong = CliRunner().invoke(app, ["models", "reproduce", "nlu", "9"])
    assert wrong.exit_code == 1 and "error:" in wrong.stderr
