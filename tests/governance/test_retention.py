"""Retention: every layer keeps what is younger than the policy and loses what is older."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.errors import InputError
from core.settings import Settings
from experiments.event_store import EventStore, PostgresEventStore, SQLiteEventStore
from experiments.events import Event, utc_timestamp
from experiments.state import ExperimentState
from governance.policy import RetentionPolicy
from governance.retention import DAY_S, enforce
from tests.postgres import throwaway_database
from versioning.lake import open_lake
from warehouse.audits import Audit, CheckResult, audit_log
from warehouse.connection import connect

POLICY = RetentionPolicy(audit_schemas=14, ingest_branches=30, events=90, connector_logs=30)


def _event(days_ago: float, experiment: str | None = None) -> Event:
    moment = datetime.now(UTC) - timedelta(days=days_ago)
    return Event(
        user_id="u", session_id="s", experiment=experiment, occurred_at=utc_timestamp(moment)
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Settings:
    """A home with an ingest branch, two audit schemas (one recorded 20 days ago, one with no
    record), events of 100 and 10 days ago, and a connector log of 40 days ago."""
    settings = Settings(home=tmp_path / "home", lake_fsync=False)
    monkeypatch.setenv("VOICEOPS_HOME", str(settings.home))
    lake = open_lake(settings)
    lake.create_repository(settings.lake_repository)
    lake.create_branch(settings.lake_repository, "ingest-20260101-run1", "main")
    lake.upload(settings.lake_repository, "ingest-20260101-run1", "raw/x.parquet", b"x")
    head = lake.commit(settings.lake_repository, "ingest-20260101-run1", "day 1").id
    warehouse = connect(settings)
    for schema in ("audit_old", "audit_old_raw", "audit_old_seeds", "audit_loading", "published"):
        warehouse.create_schema(schema)
    warehouse.close()
    old = Audit(settings.lake_repository, "ingest-20260101-run1", head, "audit_old",
                [CheckResult("c", "pass")], audited_at=time.time() - 20 * DAY_S)  # fmt: skip
    audit_log(settings).save(old)
    with EventStore.from_settings(settings) as store:
        store.write([_event(100), _event(100, "canary-nlg"), _event(10)])
    log = settings.home / "airbyte" / "logs" / "sync.log"
    log.parent.mkdir(parents=True)
    log.write_text("caller said ...")
    os.utime(log, (time.time() - 40 * DAY_S,) * 2)
    return settings


def test_a_dry_run_lists_what_is_due_and_removes_nothing(home: Settings) -> None:
    report = enforce(home, POLICY, dry_run=True)
    assert report.counts() == {
        "audit_schemas": 1, "ingest_branches": 0, "events": 2, "connector_logs": 1,
    }  # fmt: skip
    assert [k.name for k in report.kept] == ["audit_loading"]
    warehouse = connect(home)
    assert warehouse.schema_exists("audit_old_raw")
    warehouse.close()
    with EventStore.from_settings(home) as store:
        assert store.count() == 3
    assert (home.home / "airbyte" / "logs" / "sync.log").exists()


def test_enforce_removes_only_what_is_past_its_days(home: Settings, monkeypatch) -> None:
    monkeypatch.setattr(
        "experiments.state.StateStore.all",
        lambda self: {"canary-nlg": ExperimentState("canary-nlg", "running")},
    )
    report = enforce(home, POLICY)
    assert report.counts()["audit_schemas"] == 1
    warehouse = connect(home)
    assert warehouse.list_schemas("audit%") == ["audit_loading"]  # no record: kept
    assert warehouse.schema_exists("published")
    warehouse.close()
    with EventStore.from_settings(home) as store:
        left = store.read_frame()
    assert sorted(left["experiment"].fillna("-")) == ["-", "canary-nlg"]  # running: kept
    assert not (home.home / "airbyte" / "logs" / "sync.log").exists()
    lake = open_lake(home)
    assert "ingest-20260101-run1" in {b.id for b in lake.list_branches(home.lake_repository)}
    later = enforce(home, POLICY, now=time.time() + 31 * DAY_S)  # the branch is 31 days old
    assert [r.name for r in later.removed if r.layer == "ingest_branches"] == [
        "ingest-20260101-run1"
    ]
    assert {b.id for b in lake.list_branches(home.lake_repository)} == {"main"}


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_event_pruning_keeps_running_experiments(engine: str, tmp_path: Path) -> None:
    def check(store: EventStore) -> None:
        store.write([_event(100), _event(100, "a"), _event(100, "b"), _event(1, "b")])
        cutoff = datetime.now(UTC) - timedelta(days=90)
        assert store.prune(cutoff, ["a"], dry_run=True) == 2
        assert store.count() == 4
        assert store.prune(cutoff, ["a"]) == 2
        assert sorted(store.read_frame()["experiment"]) == ["a", "b"]

    if engine == "sqlite":
        with SQLiteEventStore(tmp_path / "events.sqlite3") as store:
            check(store)
        return
    with throwaway_database("voiceops_retention") as url, PostgresEventStore(url) as store:
        check(store)


def test_the_policy_file_names_the_field_and_the_reason(tmp_path: Path) -> None:
    assert RetentionPolicy.load().events == 90
    path = tmp_path / "retention.yaml"
    path.write_text("audit_schemas: 14\ningest_branches: 30\nevents: -1\nconnector_logs: 3\n")
    with pytest.raises(InputError, match=r"retention.yaml: events: days must be a positive"):
        RetentionPolicy.load(path)
    path.write_text("audit_schemas: 14\nrecordings: 3\n")
    with pytest.raises(InputError, match="unknown layer 'recordings'"):
        RetentionPolicy.load(path)


def test_the_retention_job_runs_in_dagster_and_reports_per_layer(home: Settings) -> None:
    from dagster import DagsterEventType, DagsterInstance

    from core.settings import get_settings
    from orchestration.defs.governance.retention import retention_job
    from orchestration.resources.lake import LakeResource

    get_settings.cache_clear()
    result = retention_job.execute_in_process(
        resources={"lake": LakeResource()},
        instance=DagsterInstance.ephemeral(),
        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
    )
    get_settings.cache_clear()
    assert result.success
    [output] = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_OUTPUT]
    metadata = output.event_specific_data.metadata
    assert metadata["removed_audit_schemas"].value == 1
    assert metadata["removed_events"].value == 2  # both of 100 days ago: none is running
    assert metadata["removed_connector_logs"].value == 1
    assert metadata["kept"].value == 1


def test_the_cli_reports_and_a_dry_run_keeps_everything(home: Settings) -> None:
    import json

    from typer.testing import CliRunner

    from voiceops.cli import app

    dry = CliRunner().invoke(app, ["privacy", "retention", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["counts"]["connector_logs"] == 1
    done = CliRunner().invoke(app, ["privacy", "retention"])
    assert done.exit_code == 0, done.output
    assert "connector_logs   removed    1  (policy: 30 days)" in done.stdout
    assert "kept audit_schemas: audit_loading (no audit record)" in done.stdout
    again = CliRunner().invoke(app, ["privacy", "retention", "--json"])
    assert json.loads(again.stdout)["counts"] == dict.fromkeys(POLICY.__dict__, 0)
