"""Pipeline metrics against the records they are computed from: a real lake with a published
and a refused ingestion, real audits, tiny NLU models registered and gated in MLflow, the
failure log, and a real Pushgateway (Debian's ``prometheus-pushgateway``) they are pushed to."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import httpx
import pytest
from dagster import DagsterEventType, DagsterInstance, Failure, SkipReason, job, op
from dagster import build_run_status_sensor_context as status_context
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from ingestion.lake_landing import Landing, commit_ingestion
from monitoring.failure_log import FailureLog, RunFailure
from monitoring.pipeline import PUSH_JOB, PipelineCollector, exposition, push_pipeline_metrics
from monitoring.pipeline.collector import PARTS
from orchestration.defs.monitoring.failures import record_run_failure
from orchestration.defs.monitoring.metrics import push_pipeline_metrics_sensor
from orchestration.resources.lake import LakeResource
from registry.register import register
from registry.training_info import TrainingInfo
from tests.monitoring.names import metrics as declared_metrics
from tests.registry.conftest import REPO, World, build_world, permissive_policy

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample of a text exposition, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    """The one sample of ``name`` whose labels include ``labels``."""
    [match] = [
        v for (n, have), v in found.items() if n == name and set(labels.items()) <= set(have)
    ]
    return match


def names(found: Samples) -> set[str]:
    return {name for name, _ in found}


def assert_declared(found: Samples) -> None:
    """Every sample is a pipeline metric of ``monitoring/metrics.yml``, with its labels."""
    declared = {m.name: m for m in declared_metrics() if m.source == "pipeline"}
    for name, labels in found:
        assert name in declared, f"{name} is not a pipeline metric of monitoring/metrics.yml"
        assert {label for label, _ in labels} <= declared[name].labels, (name, labels)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return build_world(tmp_path / "home")


def _ingest_day_three(world: World) -> str:
    """A third ingestion (unpublished), newer than the world's two, with two CRM streams and
    recordings: the per-source counts of the newest ingestion are its own."""
    branch = "ingest-20260103-run3"
    world.lake.create_branch(REPO, branch, "main")
    landings = [
        Landing("crm", "customers", "2026-01-03", 20, 5, 0),
        Landing("crm", "tickets", "2026-01-03", 10, 0, 0),
        Landing("recordings", "wav", "2026-01-03", 4, 1, 0),
    ]
    day = date(2026, 1, 3)
    return commit_ingestion(world.lake, REPO, branch, run_id="run3", day=day, landings=landings).id


def test_lake_audit_and_failure_metrics_match_the_records(world: World) -> None:
    published = world.lake.get_commit(REPO, world.published)
    only_crm = samples(exposition(world.settings))
    # the newest ingestion is the refused day 2: crm 12 accepted, 1 quarantined
    assert value(only_crm, "voiceops_ingest_quarantined_ratio", source="crm") == 1 / 13
    _ingest_day_three(world)
    log = FailureLog(world.settings)
    for run, job_name in (("r1", "retrain_job"), ("r2", "retrain_job"), ("r3", "ingest_day_job")):
        log.record(RunFailure(job_name, run, "step", "boom"))

    found = samples(exposition(world.settings))

    timestamp = value(found, "voiceops_lake_last_publish_timestamp_seconds", repository=REPO)
    assert timestamp == published.creation_date
    assert value(found, "voiceops_lake_publish_info", repository=REPO, commit=published.id) == 1
    assert value(found, "voiceops_ingest_quarantined_ratio", source="crm") == 5 / 35
    assert value(found, "voiceops_ingest_quarantined_ratio", source="recordings") == 1 / 5
    assert value(found, "voiceops_ingest_records", source="crm", outcome="accepted") == 30
    assert value(found, "voiceops_ingest_records", source="crm", outcome="quarantined") == 5
    # the world audited the published day (passed), then the refused one (failed)
    assert value(found, "voiceops_audit_runs_total", result="passed") == 1
    assert value(found, "voiceops_audit_runs_total", result="failed") == 1
    assert value(found, "voiceops_audit_last_result", result="failed") == 1
    assert value(found, "voiceops_audit_last_result", result="passed") == 0
    assert value(found, "voiceops_run_failures_total", dagster_job="retrain_job") == 2
    assert value(found, "voiceops_run_failures_total", dagster_job="ingest_day_job") == 1
    assert value(found, "voiceops_retraining_failures_total", dagster_job="retrain_job") == 2
    assert value(found, "voiceops_retraining_failures_total", dagster_job="train_models_job") == 0
    # nothing registered yet: zero verdicts, no model series, no registry created to look
    assert value(found, "voiceops_gate_verdicts_total", family="nlu", verdict="refused") == 0
    assert "voiceops_model_test_metric" not in names(found)
    assert not (world.settings.home / "mlflow").exists()
    assert {value(found, "voiceops_pipeline_metrics_up", part=part) for part in PARTS} == {1}
    assert_declared(found)


def test_registry_metrics_match_the_registered_versions(
    world: World, nlu_good, nlu_untrained
) -> None:
    champion = register(
        "nlu",
        dataclasses.replace(nlu_good.info(world.published), train_seconds=12.5),
        settings=world.settings,
        lake=world.lake,
        rows=nlu_good.rows,
        policy=permissive_policy(),
    )
    strict = permissive_policy(nlu={"minimum": {"all": {"intent_accuracy": 0.99}}})
    refused = register(
        "nlu",
        dataclasses.replace(nlu_untrained.info(world.published), train_seconds=7.0),
        settings=world.settings,
        lake=world.lake,
        rows=nlu_untrained.rows,
        policy=strict,
    )
    assert champion.verdict.passed and not refused.verdict.passed

    found = samples(exposition(world.settings))

    assert value(found, "voiceops_gate_verdicts_total", family="nlu", verdict="passed") == 1
    assert value(found, "voiceops_gate_verdicts_total", family="nlu", verdict="refused") == 1
    assert value(found, "voiceops_gate_verdicts_total", family="stt", verdict="passed") == 0
    # duration and scores of the newest version (the refused one), scores of the champion
    assert value(found, "voiceops_training_duration_seconds", family="nlu") == 7.0
    for trained, version in ((nlu_good, champion.version), (nlu_untrained, refused.version)):
        test = trained.scores["test"]["all"]["intent_accuracy"]
        labels = {"family": "nlu", "metric": "intent_accuracy", "language": "all"}
        assert value(found, "voiceops_model_test_metric", version=version, **labels) == test
    made = world.lake.get_commit(REPO, world.published).creation_date
    assert value(found, "voiceops_champion_data_commit_timestamp_seconds", family="nlu") == made
    assert value(found, "voiceops_pipeline_metrics_up", part="registry") == 1
    assert_declared(found)


def test_training_seconds_reach_the_registry_from_the_training_metadata() -> None:
    metadata = {"model_path": "/m", "lake_commit": "c" * 64, "scores": {}, "train_seconds": 41.5}
    assert TrainingInfo.from_metadata(metadata).train_seconds == 41.5
    assert TrainingInfo.from_metadata(metadata | {"train_seconds": None}).train_seconds == 0


def test_a_part_that_cannot_be_read_is_reported_down_and_the_others_still_export(
    world: World,
) -> None:
    def unreachable(settings):
        raise ConnectionError("lakeFS at http://lakefs:8000 refused the connection")

    parts = {"lake": unreachable, "audit": PARTS["audit"]}
    collected = list(PipelineCollector(world.settings, parts).collect())
    up = {s.labels["part"]: s.value for s in collected[-1].samples}
    assert up == {"lake": 0, "audit": 1}
    assert "voiceops_audit_runs" in {family.name for family in collected}


def test_metrics_command_prints_and_writes_the_exposition(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from voiceops.cli import app

    monkeypatch.setenv("VOICEOPS_HOME", str(world.settings.home))
    monkeypatch.setenv("VOICEOPS_LAKE_REPOSITORY", REPO)
    monkeypatch.delenv("VOICEOPS_PUSHGATEWAY_URL", raising=False)
    runner = CliRunner()
    printed = runner.invoke(app, ["monitor", "metrics"])
    assert printed.exit_code == 0, printed.output
    found = samples(printed.stdout)
    assert value(found, "voiceops_audit_runs_total", result="passed") == 1
    textfile = tmp_path / "textfile" / "voiceops_pipeline.prom"
    written = runner.invoke(app, ["monitor", "metrics", "--output", str(textfile)])
    assert written.exit_code == 0 and written.stdout == ""
    assert samples(textfile.read_text()) == found
    refused = runner.invoke(app, ["monitor", "metrics", "--push"])
    assert refused.exit_code == 1
    assert "--push needs a Pushgateway" in refused.output


# ---- the Pushgateway ----------------------------------------------------------------------


def gateway_samples(url: str) -> Samples:
    """What the gateway exposes for the pipeline's job."""
    found = samples(httpx.get(f"{url}/metrics", timeout=10).text)
    return {key: v for key, v in found.items() if ("job", PUSH_JOB) in key[1]}


def test_push_to_a_real_pushgateway_replaces_the_pipeline_group(
    world: World, pushgateway: str
) -> None:
    httpx.delete(f"{pushgateway}/metrics/job/{PUSH_JOB}", timeout=10)
    assert push_pipeline_metrics(world.settings, pushgateway)
    pushed = gateway_samples(pushgateway)
    published = world.lake.get_commit(REPO, world.published).creation_date
    timestamp = value(pushed, "voiceops_lake_last_publish_timestamp_seconds", repository=REPO)
    assert timestamp == published
    assert value(pushed, "voiceops_audit_runs_total", result="failed") == 1
    # a second push after a new failure replaces the group with the new figures
    FailureLog(world.settings).record(RunFailure("retrain_job", "run-x", "train", "oom"))
    assert push_pipeline_metrics(world.settings, pushgateway)
    again = gateway_samples(pushgateway)
    assert value(again, "voiceops_retraining_failures_total", dagster_job="retrain_job") == 1
    assert not push_pipeline_metrics(world.settings)  # no gateway configured: no push


@op
def done_op() -> int:
    return 1


@job
def finished_job():
    done_op()


@op
def broken_op() -> None:
    raise Failure(description="the warehouse is locked")


@job
def broken_job():
    broken_op()


def _sensor_context(result, event_type: DagsterEventType, instance, world: World):
    event = next(e for e in result.all_events if e.event_type == event_type)
    lake = LakeResource(home=str(world.settings.home), repository=REPO)
    return status_context(
        sensor_name="test",
        dagster_event=event,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"lake": lake},
    )


def test_sensors_push_after_a_run_and_a_failure_is_counted_in_its_own_push(
    world: World, pushgateway: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpx.delete(f"{pushgateway}/metrics/job/{PUSH_JOB}", timeout=10)
    instance = DagsterInstance.ephemeral()
    finished = finished_job.execute_in_process(instance=instance)
    success = _sensor_context(finished, DagsterEventType.RUN_SUCCESS, instance, world)
    monkeypatch.delenv("VOICEOPS_PUSHGATEWAY_URL", raising=False)
    assert isinstance(push_pipeline_metrics_sensor(success), SkipReason)
    assert gateway_samples(pushgateway) == {}

    monkeypatch.setenv("VOICEOPS_PUSHGATEWAY_URL", pushgateway)
    assert push_pipeline_metrics_sensor(success) is None
    assert value(gateway_samples(pushgateway), "voiceops_audit_runs_total", result="passed") == 1

    broken = broken_job.execute_in_process(instance=instance, raise_on_error=False)
    failed = _sensor_context(broken, DagsterEventType.RUN_FAILURE, instance, world)
    record_run_failure(failed.for_run_failure())
    pushed = gateway_samples(pushgateway)
    assert value(pushed, "voiceops_run_failures_total", dagster_job="broken_job") == 1
