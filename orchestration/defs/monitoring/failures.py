"""``run_failure_sensor``: every failed run of the code location is recorded in the failure
log (``orchestration.failure_log``), where monitoring reads it."""

from dagster import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor

from orchestration.failure_log import FailureLog, RunFailure
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
    "family tags) in the failure log that monitoring reads.",
)
def record_run_failure(context: RunFailureSensorContext, lake: LakeResource) -> None:
    failure = failure_of(context)
    if FailureLog(lake.settings()).record(failure):
        context.log.info(f"recorded the failure of {failure.job} run {failure.run_id[:8]}")
