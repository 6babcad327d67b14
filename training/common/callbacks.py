"""Callbacks every model family trains with: TensorBoard logs and Prometheus epoch gauges.

    callbacks = training_callbacks("nlu", run_dir)   # -> [TensorBoard, PrometheusEpochMetrics]
    model.fit(..., callbacks=callbacks)

Gauges live in :data:`REGISTRY`; with ``VOICEOPS_PUSHGATEWAY_URL`` set they are pushed to
that Pushgateway after every epoch (job ``voiceops_training``, grouped by family).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import keras
from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

log = logging.getLogger(__name__)

PUSHGATEWAY_ENV = "VOICEOPS_PUSHGATEWAY_URL"
PUSH_JOB = "voiceops_training"
REGISTRY = CollectorRegistry()
EPOCH_METRIC = Gauge(
    "voiceops_training_epoch_metric",
    "Last epoch's value of a training metric (loss, accuracy, val_*).",
    ["family", "metric"],
    registry=REGISTRY,
)
EPOCH = Gauge(
    "voiceops_training_epoch", "Last finished epoch (1-based).", ["family"], registry=REGISTRY
)


class PrometheusEpochMetrics(keras.callbacks.Callback):
    """Sets a gauge per epoch metric (labels family, metric); pushes when a gateway is set."""

    def __init__(self, family: str, pushgateway_url: str | None = None):
        super().__init__()
        self.family = family
        self.pushgateway_url = pushgateway_url or os.environ.get(PUSHGATEWAY_ENV) or None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for name, value in (logs or {}).items():
            try:
                EPOCH_METRIC.labels(self.family, name).set(float(value))
            except (TypeError, ValueError):
                continue  # not a scalar
        EPOCH.labels(self.family).set(epoch + 1)
        if self.pushgateway_url:
            try:
                push_to_gateway(
                    self.pushgateway_url,
                    job=PUSH_JOB,
                    registry=REGISTRY,
                    grouping_key={"family": self.family},
                )
            except OSError as error:  # monitoring must never stop a training run
                log.warning("push to %s failed: %s", self.pushgateway_url, error)


def training_callbacks(family: str, run_dir: Path) -> list[keras.callbacks.Callback]:
    """TensorBoard logs under ``run_dir/tensorboard`` and Prometheus gauges for ``family``."""
    log_dir = Path(run_dir) / "tensorboard"
    return [
        keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=False),
        PrometheusEpochMetrics(family),
    ]
