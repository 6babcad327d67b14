"""The training callback pushes one family's epoch gauges to a real Pushgateway, also from a
process that trained another family before (``train_models``, a test session): the gateway
refuses (HTTP 400) a push grouped by ``family=nlu`` that holds ``family=stt`` series."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from training.common.callbacks import EPOCH, PUSH_JOB, PrometheusEpochMetrics


def _epochs(url: str) -> dict[str, float]:
    """``voiceops_training_epoch`` per family as the gateway exposes it for the job."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return {
        sample.labels["family"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "voiceops_training_epoch" and sample.labels.get("job") == PUSH_JOB
    }


def test_a_family_s_push_holds_only_its_own_series(pushgateway: str) -> None:
    httpx.delete(f"{pushgateway}/metrics/job/{PUSH_JOB}/family/nlu", timeout=10)
    EPOCH.labels("stt").set(7)  # an earlier training in this process
    PrometheusEpochMetrics("nlu", pushgateway).on_epoch_end(2, {"loss": 0.5})
    epochs = _epochs(pushgateway)
    assert epochs.get("nlu") == 3.0
    assert "stt" not in epochs  # never pushed: it is not the nlu group's
