"""The retraining loop through Dagster, on the embedded engines with tiny models.

A first publish retrains every family (nothing was trained); the same head, or a publish
that changed no family's data, retrains none; a day without recordings retrains the text
families only; the retraining run gates the new versions, starts a canary for the
challengers, and leaves the loop's trace on every version.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import SensorResult, SkipReason, build_sensor_context

from core.settings import Settings, get_settings
from tests.pipeline_days import publish_day

pytestmark = pytest.mark.slow
GATE = Path(__file__).parent / "data" / "permissive_gate.yaml"


@pytest.fixture
def loop_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("VOICEOPS_TRAINING_SIZE", "tiny")
    monkeypatch.setenv("VOICEOPS_GATE_POLICY", str(GATE))
    get_settings.cache_clear()
    return Settings()


def evaluate(instance, cursor: str | None) -> SensorResult | SkipReason:
    from orchestration.defs.retraining.sensors import retrain_on_publish_sensor
    from orchestration.resources.lake import LakeResource

    with build_sensor_context(
        instance=instance, cursor=cursor, resources={"lake": LakeResource()}
    ) as context:
        return retrain_on_publish_sensor(context)


def run_request(settings: Settings, request) -> object:
    from orchestration.definitions import definitions_for
    from orchestration.runs import dagster_instance

    job = definitions_for(settings).resolve_job_def("retrain_job")
    result = job.execute_in_process(
        instance=dagster_instance(),
        run_config=request.run_config,
        tags=request.tags,
        asset_selection=request.asset_selection,
        raise_on_error=False,
    )
    assert result.success, [e.message for e in result.get_step_failure_events()]
    return result


def families_of(request) -> list[str]:
    return request.tags["voiceops/families"].split(",")


def test_publishes_retrain_what_changed_and_canary_the_challengers(
    loop_settings: Settings,
) -> None:
    from orchestration.runs import dagster_instance
    from registry.loop_trace import trace
    from registry.tracking import client
    from registry.versions import aliases

    settings = loop_settings
    instance = dagster_instance()
    first = publish_day(settings, 1, calls=700, audio=True, seed=11, bad_rate=0.01)

    # Nothing trained yet: every family, tagged with the publish commit.
    tick = evaluate(instance, None)
    assert isinstance(tick, SensorResult) and tick.cursor == first
    [request] = tick.run_requests
    assert families_of(request) == ["stt", "nlu", "nlg", "tts"]
    assert request.tags["voiceops/lake_commit"] == first
    assert request.run_key == f"retrain-{first}"
    result = run_request(settings, request)
    canary = result.asset_materializations_for_node("experiments__canary")[0].metadata
    assert canary["experiment"].value == "none"  # first versions become champions
    mlflow = client(settings)
    for family in ("stt", "nlu", "nlg", "tts"):
        assert aliases(mlflow, f"voicebot-{family}") == {"champion": "1"}, family
        steps = trace(settings, family, "1")
        assert steps["lake_commit"] == first and steps["run_id"] == result.run_id
        assert steps["gate"] == "passed"
        assert steps["decision"] == "passed the gate: v1 is the champion"

    # The same head again, or asked afresh: nothing changed, nothing retrained.
    assert isinstance(evaluate(instance, first), SkipReason)
    again = evaluate(instance, None)
    assert isinstance(again, SensorResult) and not again.run_requests
    assert "no family's training data changed" in again.skip_reason.skip_message

    # A day without recordings changes the text marts only: STT and TTS are not retrained.
    second = publish_day(settings, 2, calls=300, audio=False, seed=12, bad_rate=0.01)
    tick = evaluate(instance, first)
    assert isinstance(tick, SensorResult) and tick.cursor == second
    [request] = tick.run_requests
    assert families_of(request) == ["nlu", "nlg"]
    result = run_request(settings, request)
    canary = result.asset_materializations_for_node("experiments__canary")[0].metadata
    key = canary["experiment"].value
    assert key == "canary-nlg-v2-nlu-v2"
    assert canary["control"].value == {"nlu": 1, "nlg": 1}
    for family in ("nlu", "nlg"):
        assert aliases(mlflow, f"voicebot-{family}") == {"champion": "1", "challenger": "2"}
        steps = trace(settings, family, "2")
        assert steps["lake_commit"] == second and steps["experiment"] == key
    for family in ("stt", "tts"):
        assert aliases(mlflow, f"voicebot-{family}") == {"champion": "1"}
