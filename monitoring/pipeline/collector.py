"""The pipeline collector: every part's metrics, read from the records at collection time.

A part that cannot be read (a lakeFS or MLflow server down) is logged and reported as
``voiceops_pipeline_metrics_up{part} 0``; the other parts are still exported.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.settings import Settings
from monitoring.pipeline.audits import audit_metrics
from monitoring.pipeline.drift import drift_metrics
from monitoring.pipeline.failures import failure_metrics
from monitoring.pipeline.lake import lake_metrics

log = logging.getLogger(__name__)

Part = Callable[[Settings], Iterable[Metric]]


def _model_metrics(settings: Settings) -> Iterable[Metric]:
    from monitoring.pipeline.models import model_metrics  # MLflow: imported when collected

    return model_metrics(settings)


#: The parts, by the name ``voiceops_pipeline_metrics_up`` reports them under.
PARTS: dict[str, Part] = {
    "lake": lake_metrics,
    "audit": audit_metrics,
    "registry": _model_metrics,
    "failures": failure_metrics,
    "drift": drift_metrics,
}


class PipelineCollector(Collector):
    """Collects :data:`PARTS` for ``settings`` on every scrape or push."""

    def __init__(self, settings: Settings, parts: dict[str, Part] | None = None) -> None:
        self.settings = settings
        self.parts = PARTS if parts is None else parts

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "voiceops_pipeline_metrics_up",
            "1 when the part's records could be read for this collection, else 0.",
            labels=["part"],
        )
        for name, part in self.parts.items():
            try:
                metrics = list(part(self.settings))
            except Exception:  # one unreadable store must not hide the others' metrics
                log.warning("pipeline metrics: the %s part failed", name, exc_info=True)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from metrics
        yield up


def pipeline_metrics(settings: Settings) -> CollectorRegistry:
    """A registry holding only the pipeline collector (nothing of the process)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PipelineCollector(settings))
    return registry


def exposition(settings: Settings) -> str:
    """The pipeline metrics in Prometheus' text format."""
    return generate_latest(pipeline_metrics(settings)).decode()
