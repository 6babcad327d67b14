"""The nightly ingestion: yesterday's sources into a new ``ingest-*`` branch, every night."""

from datetime import timedelta

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)

#: When the nightly ingestion starts (cron, the code location's time zone: UTC).
NIGHTLY_CRON = "30 1 * * *"


def nightly_partition(context: ScheduleEvaluationContext) -> str:
    """The partition (day) a tick ingests: the day before the tick's date."""
    scheduled = context.scheduled_execution_time
    return (scheduled.date() - timedelta(days=1)).isoformat()


def build_nightly_ingest_schedule(job: UnresolvedAssetJobDefinition) -> ScheduleDefinition:
    """``nightly_ingest_schedule`` for ``job`` (``ingest_day_job`` or, with an Airbyte
    server, ``land_day_job``)."""

    @schedule(
        name="nightly_ingest_schedule",
        job=job,
        cron_schedule=NIGHTLY_CRON,
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.STOPPED,
        description="Every night at 01:30 UTC: ingest the day before (its partition) into a "
        "new ingest-* branch; the audit sensor then audits and publishes it.",
    )
    def _nightly(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
        partition = nightly_partition(context)
        if partition not in job.partitions_def.get_partition_keys(  # type: ignore[union-attr]
            current_time=context.scheduled_execution_time
        ):
            return SkipReason(f"day {partition} is before the first partition")
        return RunRequest(run_key=f"nightly-{partition}", partition_key=partition)

    return _nightly
