"""The pipeline's metrics, computed from the platform's records on every collection.

    registry = pipeline_metrics(settings)       # a prometheus_client CollectorRegistry
    print(exposition(settings))                 # `voiceops monitor metrics`
    push_pipeline_metrics(settings)             # the end of every Dagster run

Nothing is counted in memory: the lake's commits, the audit log, the MLflow registry, the
gate's verdict table and the failure log are read each time, so the figures survive restarts
and agree with what `voiceops lake log` or `voiceops models list` show.
"""

from monitoring.pipeline.collector import PipelineCollector, exposition, pipeline_metrics
from monitoring.pipeline.push import PUSH_JOB, push_pipeline_metrics

__all__ = [
    "PUSH_JOB",
    "PipelineCollector",
    "exposition",
    "pipeline_metrics",
    "push_pipeline_metrics",
]
