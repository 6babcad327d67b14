"""The unattended parts of the code location: the nightly ingestion schedule, the lake GC
job, the audit-after-ingest sensor and the run-failure sensor, each evaluated the way the
daemon does (Dagster's ``build_*_context``) on real runs of a temporary instance."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from dagster import (
    DagsterEventType,
    DagsterInstance,
    Failure,
    RunRequest,
    SkipReason,
    build_run_status_sensor_context,
    build_schedule_context,
    job,
    op,
)

from core.settings import Settings, get_settings
from monitoring.failure_log import FailureLog
from orchestration.defs.lake import definitions as lake_stage
from orchestration.defs.lake.maintenance import lake_gc_job
from orchestration.defs.monitoring.failures import record_run_failure
from orchestration.resources.lake import LakeResource

REPO = "contact-center"


@op
def ingested_op() -> int:
    return 1


@job(tags={"dagster/partition": "2026-01-02"})
def pretend_ingest_job():
    ingested_op()


@op
def failing_op() -> None:
    raise Failure(description="the CRM API answered 503 three times")


@job(tags={"voiceops/lake_commit": "abc123", "owner": "not kept"})
def failing_job():
    failing_op()


def _status_event(result, event_type: DagsterEventType):
    return next(e for e in result.all_events if e.event_type == event_type)


# ---- the nightly ingestion ----------------------------------------------------------------


def nightly(settings: Settings, tick: datetime):
    from orchestration.definitions import definitions_for

    repository = definitions_for(settings).get_repository_def()
    schedule = repository.get_schedule_def("nightly_ingest_schedule")
    return schedule, build_schedule_context(
        scheduled_execution_time=tick, repository_def=repository
    )


@pytest.mark.parametrize(
    ("tick", "partition"),
    [
        (datetime(2026, 3, 5, 1, 30, tzinfo=UTC), "2026-03-04"),
        (datetime(2026, 1, 2, 1, 30, tzinfo=UTC), "2026-01-01"),
    ],
)
def test_nightly_schedule_ingests_the_day_before(
    settings: Settings, tick: datetime, partition: str
) -> None:
    schedule, context = nightly(settings, tick)
    request = schedule.evaluate_tick(context)
    [run] = request.run_requests
    assert (run.partition_key, run.run_key) == (partition, f"nightly-{partition}")
    assert schedule.cron_schedule == "30 1 * * *" and schedule.job_name == "ingest_day_job"


def test_nightly_schedule_skips_days_before_the_first_partition(settings: Settings) -> None:
    schedule, context = nightly(settings, datetime(2026, 1, 1, 1, 30, tzinfo=UTC))
    data = schedule.evaluate_tick(context)
    assert not data.run_requests and "2025-12-31 is before the first partition" in (
        data.skip_message or ""
    )


# ---- lake retention -----------------------------------------------------------------------


def test_lake_gc_job_collects_what_no_commit_needs(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICEOPS_LAKE_GC_RETENTION_DAYS", "0")  # no past commit is retained
    get_settings.cache_clear()
    lake = LakeResource()
    client = lake.get_lake()
    lake.ensure_repository(REPO)
    client.create_branch(REPO, "work", "main")
    client.upload(REPO, "work", "calls/a.jsonl", b"{}\n")
    client.commit(REPO, "work", "first")
    client.upload(REPO, "work", "calls/a.jsonl", b"{}\n{}\n")
    client.commit(REPO, "work", "second: the first a.jsonl is needed by no retained commit")
    result = lake_gc_job.execute_in_process(
        resources={"lake": lake},
        instance=DagsterInstance.ephemeral(),
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    assert result.success
    [output] = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_OUTPUT]
    metadata = output.event_specific_data.metadata
    assert metadata["repository"].value == REPO
    assert metadata["retention_days"].value == 0.0
    assert metadata["deleted_objects"].value == 1
    assert client.read_bytes(REPO, "work", "calls/a.jsonl") == b"{}\n{}\n"


def test_lakefs_leaves_gc_to_its_own_job(settings: Settings) -> None:
    lakefs = settings.model_copy(update={"lake_backend": "lakefs"})
    assert not lake_stage.defs(lakefs).schedules
    assert [s.name for s in lake_stage.defs(settings).schedules] == ["lake_gc_schedule"]


# ---- audit after ingestion ----------------------------------------------------------------


def test_a_successful_ingestion_run_is_audited_on_its_branch(settings: Settings) -> None:
    from orchestration.definitions import definitions_for

    instance = DagsterInstance.ephemeral()
    result = pretend_ingest_job.execute_in_process(instance=instance)
    sensor = definitions_for(settings).get_sensor_def("audit_after_ingest_sensor")
    context = build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_event=_status_event(result, DagsterEventType.RUN_SUCCESS),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    )
    request = sensor(context)
    assert isinstance(request, RunRequest)
    branch = f"ingest-20260102-{result.run_id[:12]}"
    assert request.run_config == {"ops": {"warehouse_raw": {"config": {"branch": branch}}}}
    assert request.run_key == f"audit-{branch}"
    assert sensor.job_name == "audit_publish_job"


def test_an_ingestion_run_without_a_day_is_not_audited(settings: Settings) -> None:
    from orchestration.definitions import definitions_for

    instance = DagsterInstance.ephemeral()
    result = ingested_op_job().execute_in_process(instance=instance)
    sensor = definitions_for(settings).get_sensor_def("audit_after_ingest_sensor")
    context = build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_event=_status_event(result, DagsterEventType.RUN_SUCCESS),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    )
    assert isinstance(sensor(context), SkipReason)


def ingested_op_job():
    @job(name="untagged_ingest_job")
    def untagged():
        ingested_op()

    return untagged


# ---- failures where monitoring sees them --------------------------------------------------


def test_failed_runs_are_recorded_once_with_step_message_and_tags(
    settings: Settings, tmp_path: Path
) -> None:
    instance = DagsterInstance.ephemeral()
    result = failing_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    context = build_run_status_sensor_context(
        sensor_name="run_failure_sensor",
        dagster_event=_status_event(result, DagsterEventType.RUN_FAILURE),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"lake": LakeResource()},
    ).for_run_failure()
    record_run_failure(context)
    record_run_failure(context)  # the daemon may report a run twice: kept once
    [failure] = FailureLog(settings).failures()
    assert (failure.job, failure.run_id, failure.step) == (
        "failing_job",
        result.run_id,
        "failing_op",
    )
    assert "the CRM API answered 503 three times" in failure.message
    assert failure.tags == {"voiceops/lake_commit": "abc123"}
    assert FailureLog(settings).failures(job="other_job") == []


# ---- the retraining sensor's trigger ------------------------------------------------------


def test_retraining_sensor_starts_nothing_for_a_commit_that_is_not_a_publish(
    settings: Settings,
) -> None:
    """A new repository's main holds only its initial commit: the cursor moves past it, no
    run is requested, and the same head is then skipped at once."""
    from dagster import SensorResult, build_sensor_context

    from orchestration.defs.retraining.sensors import retrain_on_publish_sensor

    lake = LakeResource()
    lake.ensure_repository(REPO)
    head = lake.head(REPO)
    instance = DagsterInstance.ephemeral()
    with build_sensor_context(instance=instance, resources={"lake": lake}) as context:
        tick = retrain_on_publish_sensor(context)
    assert isinstance(tick, SensorResult) and not tick.run_requests
    assert tick.cursor == head and "is not a publish merge" in tick.skip_reason.skip_message
    with build_sensor_context(instance=instance, cursor=head, resources={"lake": lake}) as again:
        assert isinstance(retrain_on_publish_sensor(again), SkipReason)


def test_retraining_sensor_waits_for_a_missing_repository(settings: Settings) -> None:
    from dagster import build_sensor_context

    from orchestration.defs.retraining.sensors import retrain_on_publish_sensor

    with build_sensor_context(resources={"lake": LakeResource()}) as context:
        skipped = retrain_on_publish_sensor(context)
    assert isinstance(skipped, SkipReason) and "not found" in skipped.skip_message
