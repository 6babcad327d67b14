"""Audit and publish each ingested day as soon as its ingestion run succeeds."""

from datetime import date

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunStatusSensorContext,
    SensorDefinition,
    SkipReason,
    run_status_sensor,
)
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)

from ingestion.lake_landing import ingest_branch_name

PARTITION_TAG = "dagster/partition"


def ingested_branch(run_id: str, partition: str) -> str:
    """The ``ingest-*`` branch an ingestion run of ``partition`` wrote."""
    return ingest_branch_name(run_id, date.fromisoformat(partition))


def build_audit_after_ingest_sensor(
    ingest_jobs: list[UnresolvedAssetJobDefinition], audit_job: UnresolvedAssetJobDefinition
) -> SensorDefinition:
    """``audit_after_ingest_sensor``: a successful ingestion run -> ``audit_job`` on its
    branch (publishing it if every check passes)."""

    @run_status_sensor(
        name="audit_after_ingest_sensor",
        run_status=DagsterRunStatus.SUCCESS,
        monitored_jobs=ingest_jobs,
        request_job=audit_job,
        default_status=DefaultSensorStatus.STOPPED,
        description="When an ingestion run succeeds, audits its ingest-* branch (dbt build + "
        "every test) and publishes it to main if every check passed.",
    )
    def _audit_after_ingest(context: RunStatusSensorContext) -> RunRequest | SkipReason:
        run = context.dagster_run
        partition = run.tags.get(PARTITION_TAG)
        if not partition:
            return SkipReason(f"ingestion run {run.run_id[:8]} has no partition (day)")
        branch = ingested_branch(run.run_id, partition)
        return RunRequest(
            run_key=f"audit-{branch}",
            run_config={"ops": {"warehouse_raw": {"config": {"branch": branch}}}},
            tags={"voiceops/ingest_run": run.run_id, "voiceops/branch": branch},
        )

    return _audit_after_ingest
