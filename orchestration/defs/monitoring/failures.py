"""``run_failure_sensor``: every failed run of the code location is recorded in the failure
log (``monitoring.failure_log``), where monitoring reads it, then the pipeline metrics are
pushed (when a Pushgateway is configured) so that they count it."""

from dagster import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor

from monitoring.failure_log import FailureLog, RunFailure
from orchestration.defs.monitoring.metrics import push_after_run
from orchestration.resources.lake import LakeResource

#: Run tags worth keeping with a failure (Dagster's own tags are left out).
KEPT_TAG_PREFIX = "voiceops/"


def failure_of(context: RunFailureSensorContext) -> RunFailure:
    """The failure record of the run ``context`` reports."""
    run = context.dagster_run
    steps = context.get_step_failure_events()
    step, message = "", context.failure_event.message or ""
    if steps:
        step = steps[0].step_key or ""
        data = steps[0].step_failure_data
        if data is not None and data.error is not None:
            message = data.error.message.strip()
    tags = {k: v for k, v in run.tags.items() if k.startswith(KEPT_TAG_PREFIX)}
    partition = run.tags.get("dagster/partition")
    if partition:
        tags["dagster/partition"] = partition
    return RunFailure(run.job_name, run.run_id, step, message, tags)


@run_failure_sensor(
    name="run_failure_sensor",
    default_status=DefaultSensorStatus.RUNNING,
    description="Records every failed run (job, failed step, message, lake commit and "
    "family tags) in the failure log that monitoring reads, then pushes the pipeline metrics "
    "when VOICEOPS_PUSHGATEWAY_URL is set.",
)
def record_run_failure(context: RunFailureSensorContext, lake: LakeResource) -> None:
    failure = failure_of(context)
    settings = lake.settings()
    if FailureLog(settings).record(failure):
        context.log.info(f"recorded the failure of {failure.job} run {failure.run_id[:8]}")
    context.log.info(push_after_run(settings, failure.run_id)[1])
