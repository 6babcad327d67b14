"""Retention of personal data per layer, enforced every night (governance/retention.yaml)."""

from dagster import (
    DefaultScheduleStatus,
    MetadataValue,
    OpExecutionContext,
    Output,
    ScheduleDefinition,
    job,
    op,
)

from governance.retention import enforce
from orchestration.resources.lake import LakeResource

RETENTION_CRON = "30 4 * * *"


@op(description="Remove what each layer kept longer than the retention policy allows.")
def retention_op(context: OpExecutionContext, lake: LakeResource):
    report = enforce(lake.settings())
    counts = report.counts()
    context.log.info(
        "retention: removed " + ", ".join(f"{count} {layer}" for layer, count in counts.items())
    )
    for item in report.kept:
        context.log.warning(f"retention kept {item.layer} {item.name}: {item.detail}")
    yield Output(
        sum(counts.values()),
        metadata={
            **{f"removed_{layer}": count for layer, count in counts.items()},
            "kept": len(report.kept),
            "report": MetadataValue.json(report.to_dict()),
        },
    )


@job(description="Enforce the retention policy on every layer (VOICEOPS_RETENTION_POLICY).")
def retention_job():
    retention_op()


retention_schedule = ScheduleDefinition(
    name="retention_schedule",
    job=retention_job,
    cron_schedule=RETENTION_CRON,
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Every night at 04:30 UTC: the retention policy on every layer (the lake "
    "GC then removes the objects only the deleted branches held).",
)
