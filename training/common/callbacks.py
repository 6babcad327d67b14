"""Callbacks every model family trains with: TensorBoard logs, Prometheus epoch gauges and a
progress line per epoch.

    callbacks = training_callbacks("nlu", run_dir)
    # -> [TensorBoard, PrometheusEpochMetrics, EpochProgress]
    model.fit(..., callbacks=callbacks)

``training_callbacks("nlu", run_dir, on_epoch=hook)`` also calls ``hook(epoch, logs)`` after
each epoch (1-based, scalar logs): hyperparameter tuning reports there, and an exception the
hook raises (a pruned trial) stops training and leaves the family's ``run``.

Gauges live in :data:`REGISTRY`; with ``VOICEOPS_PUSHGATEWAY_URL`` set they are pushed to
that Pushgateway after every epoch (job ``voiceops_training``, grouped by family).

:class:`EpochProgress` prints ``nlu epoch 3/20: loss 0.412, val_intent_accuracy 0.836 (4.1 s)``
on stderr when someone watches: ``VOICEOPS_PROGRESS=1`` (the CLI sets it when its stdout is a
terminal and ``--json`` is off) or, unset, when stdout and stderr are terminals.
``VOICEOPS_PROGRESS=0`` silences it. It only reads the epoch's logs: training is unchanged.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

import keras
from prometheus_client import CollectorRegistry, Gauge, push_to_gateway
from prometheus_client.metrics_core import Metric

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


class FamilySamples:
    """The samples of :data:`REGISTRY` labelled with one family: what a push grouped by that
    family may hold. A process that trains several families (``train_models``, a test
    session) has every family's series in the registry, and the Pushgateway refuses a push
    whose series carry another value of a grouping-key label (HTTP 400)."""

    def __init__(self, family: str):
        self.family = family

    def collect(self) -> Iterator[Metric]:
        for metric in REGISTRY.collect():
            samples = [s for s in metric.samples if s.labels.get("family") == self.family]
            if samples:
                own = Metric(metric.name, metric.documentation, metric.type, metric.unit)
                own.samples = samples
                yield own


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
                    registry=FamilySamples(self.family),  # type: ignore[arg-type]
                    grouping_key={"family": self.family},
                )
            except OSError as error:  # monitoring must never stop a training run
                log.warning("push to %s failed: %s", self.pushgateway_url, error)


#: ``1``: print a line per epoch; ``0``: never; unset: when stdout and stderr are terminals.
PROGRESS_ENV = "VOICEOPS_PROGRESS"


def progress_wanted(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether progress lines are wanted (see :data:`PROGRESS_ENV`)."""
    setting = environ.get(PROGRESS_ENV, "").strip()
    if setting:
        return setting not in ("0", "false", "no", "off")
    return sys.stdout.isatty() and sys.stderr.isatty()


def main_metric(logs: Mapping[str, Any]) -> str | None:
    """The metric an epoch line shows beside the loss: a validation accuracy, else the
    validation loss (None when the epoch logged neither)."""
    names = [name for name in logs if name.startswith("val_") and "accuracy" in name]
    names += [name for name in ("val_loss",) if name in logs]
    return names[0] if names else None


def epoch_line(
    family: str, epoch: int, epochs: int | None, logs: Mapping[str, Any], s: float
) -> str:
    """``nlu epoch 3/20: loss 0.4120, val_intent_accuracy 0.8360 (4.1 s)``."""
    shown = [name for name in ("loss", main_metric(logs)) if name is not None and name in logs]
    values = []
    for name in shown:
        try:
            values.append(f"{name} {float(logs[name]):.4f}")
        except (TypeError, ValueError):
            continue  # not a scalar
    of = f"/{epochs}" if epochs else ""
    return f"{family} epoch {epoch}{of}: {', '.join(values) or 'no metrics'} ({s:.1f} s)"


class EpochProgress(keras.callbacks.Callback):
    """One line per finished epoch (epoch k/N, the loss and the main metric) on ``stream``
    (stderr by default) when :func:`progress_wanted`, decided when training starts."""

    def __init__(self, family: str, stream: TextIO | None = None, enabled: bool | None = None):
        super().__init__()
        self.family = family
        self.stream = stream
        self.enabled = enabled
        self._active = False
        self._started = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._active = progress_wanted() if self.enabled is None else self.enabled

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._started = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if not self._active:
            return
        epochs = (self.params or {}).get("epochs")
        line = epoch_line(
            self.family, epoch + 1, epochs, logs or {}, time.monotonic() - self._started
        )
        stream = self.stream or sys.stderr
        stream.write(line + "\n")
        stream.flush()


#: ``hook(epoch, logs)`` after each epoch: 1-based epoch, the epoch's scalar metrics.
EpochHook = Callable[[int, dict[str, float]], None]


def scalar_logs(logs: Mapping[str, Any] | None) -> dict[str, float]:
    """The scalar values of an epoch's logs, as floats."""
    values = {}
    for name, value in (logs or {}).items():
        try:
            values[name] = float(value)
        except (TypeError, ValueError):
            continue  # not a scalar
    return values


class EpochHookCallback(keras.callbacks.Callback):
    """Calls an :data:`EpochHook` after each epoch; what it raises ends ``fit``."""

    def __init__(self, hook: EpochHook):
        super().__init__()
        self.hook = hook

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.hook(epoch + 1, scalar_logs(logs))


def training_callbacks(
    family: str, run_dir: Path, on_epoch: EpochHook | None = None
) -> list[keras.callbacks.Callback]:
    """TensorBoard logs under ``run_dir/tensorboard``, Prometheus gauges and progress lines
    for ``family``; ``on_epoch`` (optional) is called after each epoch."""
    log_dir = Path(run_dir) / "tensorboard"
    callbacks: list[keras.callbacks.Callback] = [
        keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=False),
        PrometheusEpochMetrics(family),
        EpochProgress(family),
    ]
    if on_epoch is not None:
        callbacks.append(EpochHookCallback(on_epoch))
    return callbacks
