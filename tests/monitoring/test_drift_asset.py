"""The drift asset and its checks in a real Dagster run over a small world: a published day
(real dbt build), an NLU champion registered in MLflow with that lake commit, and planted
production turns in the event store. Then the pipeline metrics, the drift sensor and
``voiceops monitor status`` read what the run left.

The champion version is registered without a model artifact: drift reads only its lineage.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from dagster import AssetMaterialization, SensorResult, build_sensor_context, materialize
from typer.testing import CliRunner

from core.settings import Settings
from experiments.event_store import EventStore
from experiments.events import Event, utc_timestamp
from tests.pipeline_days import publish_day

pytestmark = pytest.mark.slow


@pytest.fixture
def settings(pipeline_settings: Settings) -> Settings:
    """``pipeline_settings`` (tests/conftest.py): a scratch home with the embedded engines."""
    return pipeline_settings


def register_champion(settings: Settings, commit: str) -> str:
    from registry.tracking import client

    mlflow = client(settings)
    mlflow.create_registered_model("voicebot-nlu")
    version = mlflow.create_model_version(
        "voicebot-nlu", "file:///nowhere", tags={"lineage.lake_commit": commit}
    )
    mlflow.set_registered_model_alias("voicebot-nlu", "champion", version.version)
    return str(version.version)


def turn(language: str, intent: str, confidence: float, at: datetime) -> Event:
    return Event(
        user_id="u",
        session_id="s",
        language=language,
        intent=intent,
        confidence=confidence,
        versions={"nlu": "1"},
        occurred_at=utc_timestamp(at),
    )


def plant_turns(settings: Settings, train: list[dict]) -> tuple[str, str]:
    """English turns with the training intents, Russian ones all of a single intent; same
    language mix. Confidence 0.9 two days ago, 0.5 in the last hour."""
    now = datetime.now(UTC)
    rare_ru = Counter(r["intent"] for r in train if r["language"] == "ru").most_common()[-1][0]
    recent = [
        turn(r["language"], r["intent"] if r["language"] == "en" else rare_ru, 0.5, now)
        for r in train
    ]
    earlier = [turn("en", "x", 0.9, now - timedelta(days=2)) for _ in range(60)]
    with EventStore.from_settings(settings) as store:
        store.write(recent + earlier)
    return rare_ru, now.isoformat()


def test_drift_asset_checks_metrics_sensor_and_status(settings: Settings) -> None:
    from monitoring.pipeline import exposition
    from orchestration.defs.monitoring.drift import DRIFT_KEY, drift
    from orchestration.defs.retraining.drift import retrain_on_drift_sensor
    from orchestration.resources.lake import LakeResource
    from orchestration.runs import dagster_instance
    from training.common.data import read_mart
    from voiceops.cli import app

    commit = publish_day(settings)
    version = register_champion(settings, commit)
    train = read_mart(settings, "nlu_examples", commit=commit, splits=("train",))
    assert {r["language"] for r in train} == {"ru", "en"}
    plant_turns(settings, train)

    instance = dagster_instance()
    result = materialize(
        [drift],
        resources={"lake": LakeResource()},
        instance=instance,
        run_config={"ops": {"monitoring__drift": {"config": {"min_values": 10}}}},
    )
    assert result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    nlu = checks["nlu_inputs_not_drifted"]
    assert not nlu.passed
    scores = nlu.metadata["scores"].value
    assert scores["intent[ru].psi"] > 0.25  # one intent instead of the training mix
    assert scores["intent[en].psi"] == 0.0  # the training mix itself
    assert scores["language[all].psi"] == 0.0
    assert scores["confidence[en].ks"] == 1.0  # 0.9 before, 0.5 now
    assert nlu.metadata["champion_version"].value == version
    assert all(checks[f"{name}_inputs_not_drifted"].passed for name in ("stt", "nlg", "tts"))
    metadata = result.asset_materializations_for_node("monitoring__drift")[0].metadata
    assert json.loads(metadata["drifted"].value) == {"nlu": commit}

    text = exposition(settings)
    assert 'voiceops_pipeline_metrics_up{part="drift"} 1.0' in text
    line = 'voiceops_drift_score{family="nlu",feature="intent",language="ru",method="psi"}'
    assert line in text

    def evaluate(cursor: str | None):
        with build_sensor_context(
            instance=instance, cursor=cursor, resources={"lake": LakeResource()}
        ) as context:
            return retrain_on_drift_sensor(context)

    same_data = evaluate(None)
    assert isinstance(same_data, SensorResult) and not same_data.run_requests
    assert "would not fix the drift" in same_data.skip_reason.skip_message
    # a champion of an older commit, drifted: retrain it on the published data
    instance.report_runless_asset_event(
        AssetMaterialization(DRIFT_KEY, metadata={"drifted": json.dumps({"nlu": "0" * 64})})
    )
    newer = evaluate(same_data.cursor)
    assert isinstance(newer, SensorResult) and len(newer.run_requests) == 1
    request = newer.run_requests[0]
    assert request.tags["voiceops/families"] == "nlu"
    assert request.tags["voiceops/lake_commit"] == commit
    assert request.tags["voiceops/trigger"] == "drift"

    status = CliRunner().invoke(app, ["monitor", "status", "--json"])
    assert status.exit_code == 0, status.stdout + status.stderr
    report = json.loads(status.stdout)
    assert report["families"]["nlu"]["champion"] == version
    assert report["families"]["nlu"]["lake_commit"] == commit
    assert report["families"]["nlu"]["data_age_s"] >= 0
    assert any(s["drifted"] for s in report["families"]["nlu"]["drift"])
    assert report["families"]["stt"]["champion"] is None
    assert "not configured" in report["prometheus"]["error"]
    text_status = CliRunner().invoke(app, ["monitor", "status"])
    assert f"nlu: champion v{version}, data commit {commit[:12]}" in text_status.stdout
    assert "intent[ru] psi" in text_status.stdout and "DRIFT" in text_status.stdout
    assert "prometheus: not configured" in text_status.stdout
