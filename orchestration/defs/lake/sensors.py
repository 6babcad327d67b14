"""Sensors: react to new data in the lake (the seed of "retrain on new data")."""

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from orchestration.defs.lake.assets import lake_job
from orchestration.resources.lake import LakeResource
from versioning.lake import NotFoundError

#: Run tag carrying the lake commit a sensor-triggered run was requested for.
LAKE_COMMIT_TAG = "voiceops/lake_commit"


@sensor(
    name="lake_main_commit_sensor",
    job=lake_job,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.STOPPED,
    description="Requests a lake_job run when the head commit of the lake repository's "
    "default branch (main) changes; the cursor is the last commit id seen.",
)
def lake_main_commit_sensor(
    context: SensorEvaluationContext, lake: LakeResource
) -> SensorResult | SkipReason:
    """One run per new head commit of ``main`` (run key = commit id, so never twice)."""
    repository = lake.repository_name
    try:
        head = lake.head(repository)
    except NotFoundError as err:
        return SkipReason(f"lake repository {repository!r} not found: {err}")
    if head == context.cursor:
        return SkipReason(f"{repository}: head still at {head[:12]}")
    previous = context.cursor[:12] if context.cursor else "nothing"
    context.log.info(f"{repository}: head moved from {previous} to {head[:12]}")
    return SensorResult(
        run_requests=[RunRequest(run_key=head, tags={LAKE_COMMIT_TAG: head})],
        cursor=head,
    )
