"""Lake retention: garbage collection of objects no retained commit needs, every night.

Only for the embedded lake: on lakeFS, garbage collection is the server's own GC job, driven
by the repository's GC rules (``lakectl gc set-config``), so the lake stage leaves this
schedule out there.
"""

from dagster import (
    DefaultScheduleStatus,
    MetadataValue,
    OpExecutionContext,
    Output,
    ScheduleDefinition,
    job,
    op,
)

from orchestration.resources.lake import LakeResource

LAKE_GC_CRON = "0 4 * * *"


@op(description="Delete lake objects that no branch, tag or commit within the retention needs.")
def lake_gc_op(context: OpExecutionContext, lake: LakeResource):
    settings = lake.settings()
    report = lake.get_lake().gc(lake.repository_name, settings.lake_gc_retention_days)
    context.log.info(
        f"lake GC of {report.repository} (retention {report.retention_days:g} days): deleted "
        f"{report.deleted_objects} objects ({report.deleted_bytes} bytes), kept "
        f"{report.kept_objects}"
    )
    yield Output(
        report.deleted_objects,
        metadata={
            "repository": report.repository,
            "retention_days": report.retention_days,
            "deleted_objects": report.deleted_objects,
            "deleted_bytes": MetadataValue.int(report.deleted_bytes),
            "kept_objects": report.kept_objects,
            "removed_temp_files": report.removed_temp_files,
        },
    )


@job(description="Garbage-collect the lake repository (VOICEOPS_LAKE_GC_RETENTION_DAYS).")
def lake_gc_job():
    lake_gc_op()


lake_gc_schedule = ScheduleDefinition(
    name="lake_gc_schedule",
    job=lake_gc_job,
    cron_schedule=LAKE_GC_CRON,
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Every night at 04:00 UTC: lake garbage collection with the configured "
    "retention (embedded lake only).",
)
