"""``retrain_on_drift_sensor`` on a real (ephemeral) Dagster instance, and its decision:
retrain a drifted family only on data newer than its champion's."""

from __future__ import annotations

import json

from dagster import (
    AssetMaterialization,
    DagsterInstance,
    SensorResult,
    SkipReason,
    build_sensor_context,
)

from orchestration.defs.monitoring.drift import DRIFT_KEY
from orchestration.defs.retraining.drift import drift_request, retrain_on_drift_sensor
from orchestration.resources.lake import LakeResource


def evaluate(instance: DagsterInstance, cursor: str | None):
    with build_sensor_context(
        instance=instance, cursor=cursor, resources={"lake": LakeResource()}
    ) as context:
        return retrain_on_drift_sensor(context)


def test_no_report_and_no_drift_request_nothing():
    with DagsterInstance.ephemeral() as instance:
        first = evaluate(instance, None)
        assert isinstance(first, SkipReason) and "no drift report" in first.skip_message
        instance.report_runless_asset_event(
            AssetMaterialization(DRIFT_KEY, metadata={"drifted": json.dumps({})})
        )
        calm = evaluate(instance, None)
        assert isinstance(calm, SensorResult) and not calm.run_requests and calm.cursor
        again = evaluate(instance, calm.cursor)
        assert isinstance(again, SkipReason) and "no new drift report" in again.skip_message


def test_only_families_trained_on_older_data_are_retrained():
    request, decision = drift_request({"stt": "a" * 64, "nlu": "b" * 64}, "b" * 64, "tiny")
    assert request is not None
    assert request.tags["voiceops/families"] == "stt,tts"  # TTS is scored by the STT model
    assert request.tags["voiceops/lake_commit"] == "b" * 64
    assert request.tags["voiceops/trigger"] == "drift"
    assert request.run_key == f"drift-{'b' * 64}-stt-tts"
    assert "nlu already trained on bbbbbbbbbbbb's data" in decision
    none, why = drift_request({"nlu": "b" * 64}, "b" * 64, "tiny")
    assert none is None and "would not fix the drift" in why
    # a model already trained on the published data (the gate refused it): no retraining
    refused, why = drift_request({"nlu": "a" * 64}, "b" * 64, "tiny", frozenset({"nlu"}))
    assert refused is None and "nlu already trained" in why
