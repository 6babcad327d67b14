"""The pipeline metrics pushed to the Pushgateway at the end of every run.

A run that succeeded pushes from :data:`push_pipeline_metrics_sensor`; a failed one from
``run_failure_sensor`` once its failure is in the failure log, so the push counts it. Without
``VOICEOPS_PUSHGATEWAY_URL`` nothing is pushed (``voiceops monitor metrics`` still prints the
same figures).
"""

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunStatusSensorContext,
    SkipReason,
    run_status_sensor,
)

from core.settings import Settings
from monitoring.pipeline import PUSH_JOB, push_pipeline_metrics
from orchestration.resources.lake import LakeResource


def push_after_run(settings: Settings, run_id: str) -> tuple[bool, str]:
    """Push the metrics if a Pushgateway is configured: whether they were pushed, and what
    happened in one line (a failed push is reported, never raised: monitoring must not fail
    the pipeline)."""
    if not settings.pushgateway_url:
        return False, "no Pushgateway configured (VOICEOPS_PUSHGATEWAY_URL)"
    try:
        push_pipeline_metrics(settings)
    except OSError as error:
        return False, f"push of the pipeline metrics to {settings.pushgateway_url} failed: {error}"
    return True, f"metrics after run {run_id[:8]} pushed to {settings.pushgateway_url} ({PUSH_JOB})"


@run_status_sensor(
    run_status=DagsterRunStatus.SUCCESS,
    name="push_pipeline_metrics_sensor",
    # Harmless when running: it reads records and pushes only when a gateway is configured.
    default_status=DefaultSensorStatus.RUNNING,
    description="After every successful run, pushes the pipeline metrics (computed from the "
    "lake, audits, registry and failure log) to VOICEOPS_PUSHGATEWAY_URL, job "
    f"{PUSH_JOB}; does nothing when it is unset.",
)
def push_pipeline_metrics_sensor(
    context: RunStatusSensorContext, lake: LakeResource
) -> SkipReason | None:
    pushed, outcome = push_after_run(lake.settings(), context.dagster_run.run_id)
    context.log.info(outcome)
    return None if pushed else SkipReason(outcome)
