"""Monitoring stage: failed runs recorded where monitoring reads them, the pipeline metrics
pushed at the end of every run, and the drift of production inputs with its checks."""

from dagster import Definitions

from core.settings import Settings
from orchestration.defs.monitoring.drift import drift
from orchestration.defs.monitoring.failures import record_run_failure
from orchestration.defs.monitoring.metrics import push_pipeline_metrics_sensor


def defs(settings: Settings) -> Definitions:
    """The monitoring stage's definitions."""
    return Definitions(assets=[drift], sensors=[record_run_failure, push_pipeline_metrics_sensor])
