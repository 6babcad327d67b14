"""Push the pipeline metrics to a Prometheus Pushgateway (the standard for batch jobs: a run
ends before any scrape, the gateway keeps its last figures for Prometheus)."""

from __future__ import annotations

from prometheus_client import push_to_gateway

from core.settings import Settings
from monitoring.pipeline.collector import pipeline_metrics

#: The Pushgateway job the pipeline's metrics are grouped under.
PUSH_JOB = "voiceops_pipeline"


def push_pipeline_metrics(settings: Settings, url: str | None = None, timeout: float = 10) -> bool:
    """Replace the ``voiceops_pipeline`` group on the gateway (``url``, default
    ``settings.pushgateway_url``) with the current figures; False when none is configured.

    A PUT replaces the whole group, so a series that disappeared (a renamed job) goes too.
    """
    target = url or settings.pushgateway_url
    if not target:
        return False
    push_to_gateway(target, job=PUSH_JOB, registry=pipeline_metrics(settings), timeout=timeout)
    return True
