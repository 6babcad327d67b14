"""Run-failure metrics from the failure log (``voiceops_run_failures``, one row per failed
Dagster run, kept by the code location's ``run_failure_sensor``).

The Dagster job is the label ``dagster_job``: ``job`` is the Pushgateway's grouping label
(``voiceops_pipeline``), and a pushed series carrying its own ``job`` is refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, Metric

from core.settings import Settings
from monitoring.failure_log import FailureLog

#: The jobs that retrain models (a failure of one is a failed retraining).
RETRAINING_JOBS = ("retrain_job", "train_models_job", "register_models_job")


def failure_metrics(settings: Settings) -> Iterator[Metric]:
    """``voiceops_run_failures_total{dagster_job}`` and
    ``voiceops_retraining_failures_total{dagster_job}``."""
    by_job = Counter(failure.job for failure in FailureLog(settings).failures())
    runs = CounterMetricFamily(
        "voiceops_run_failures",
        "Failed Dagster runs of the pipeline, by job.",
        labels=["dagster_job"],
    )
    retraining = CounterMetricFamily(
        "voiceops_retraining_failures",
        "Failed runs of the jobs that train or register models.",
        labels=["dagster_job"],
    )
    for job in sorted(by_job):
        runs.add_metric([job], by_job[job])
    for job in RETRAINING_JOBS:
        retraining.add_metric([job], by_job.get(job, 0))
    yield from (runs, retraining)
