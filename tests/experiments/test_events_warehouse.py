"""Experiment events in the warehouse: the load step, dbt's experiment models on DuckDB and
Postgres (with no events and with a few), and their separation from the publish audit."""

from __future__ import annotations

import multiprocessing
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.pseudonym import customer_key, pseudonym_key
from core.settings import Settings
from experiments.event_spool import spool_dir
from experiments.event_store import EventStore
from experiments.events import Event
from experiments.warehouse_load import RAW_SCHEMA, load_events
from orchestration.defs.warehouse.dbt import build_dbt_assets
from orchestration.resources.dbt import prepared_dbt_project
from tests.warehouse.dbt_runner import Dbt, postgres_connection
from warehouse import dbt_build as dbt_build_module
from warehouse.connection import Warehouse
from warehouse.dbt_build import (
    AUDIT_SELECTION,
    EXPERIMENT_MODELS,
    dbt_build,
    dbt_env,
    manifest_hash,
)

EXPERIMENT_NODES = ("stg_experiment_events", "experiment_exposures", "experiment_user_metrics")


def turn(user: str, arm: str, latency_ms: float, **fields: object) -> Event:
    return Event(
        user_id=user,
        session_id=f"call-{user}",
        experiment="stack-ab",
        arm=arm,
        versions={"nlu": "2" if arm == "a" else "3"},
        input_kind="audio",
        confidence=0.5,
        latency_ms=latency_ms,
        **fields,  # type: ignore[arg-type]
    )


def _dbt(settings: Settings, work: Path) -> Dbt:
    return Dbt(settings.dbt_target, dbt_env(settings) | {"VOICEOPS_DBT_SCHEMA": "main"}, work)


@pytest.fixture(params=["duckdb", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """An empty warehouse: the DuckDB file, then a temporary database on the local Postgres."""
    home = tmp_path / "home"
    if request.param == "duckdb":
        yield Settings(home=home)
        return
    admin = postgres_connection()
    admin.autocommit = True
    database = f"voiceops_events_test_{uuid.uuid4().hex[:10]}"
    try:
        yield Settings(home=home, dbt_target="postgres", pg_database=database)  # created on use
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()


def _rows(settings: Settings, sql: str) -> list[tuple]:
    with Warehouse.from_settings(settings) as warehouse:
        return [tuple(row) for row in warehouse.fetchall(sql)]


def _metrics(settings: Settings) -> dict[str, tuple]:
    rows = _rows(
        settings,
        "select user_id, arm, turns, errors, error_rate, handoff_rate, empty_transcript_rate, "
        "fallback_turns, p50_latency_ms, p99_latency_ms, outcomes, resolved "
        "from main_experiments.experiment_user_metrics order by user_id",
    )
    return {row[0]: row[1:] for row in rows}


def test_load_events_and_build_the_experiment_models(settings: Settings, tmp_path: Path) -> None:
    dbt = _dbt(settings, tmp_path / "dbt")

    assert load_events(settings) == 0  # no events yet: the models still build, empty
    empty = dbt("build", "--select", EXPERIMENT_MODELS)
    assert empty.success, empty.exception
    assert _metrics(settings) == {}

    with EventStore.from_settings(settings) as store:
        store.write(
            [
                turn("u1", "a", 100.0, audio_duration_s=2.5, audio_sample_rate=16000),
                turn("u1", "a", 300.0, error="tts failed", handoff=True),
                turn("u2", "b", 50.0, transcript_empty=True, fallback=True),
                turn("u2", "b", 70.0),
                Event.outcome("u1", "call-u1", resolved=True),
                Event.outcome("u2", "call-u2", resolved=False),
                Event(user_id="u3", session_id="call-u3", latency_ms=1.0),  # in no experiment
            ]
        )
    assert load_events(settings) == 7
    assert load_events(settings) == 7  # a reload replaces, never appends
    built = dbt("build", "--select", EXPERIMENT_MODELS)
    assert built.success, built.exception
    statuses = {r.node.name: str(r.status) for r in built.result}
    assert statuses["experiment_users_see_one_arm"] == "pass"
    assert all(status in {"pass", "success"} for status in statuses.values()), statuses

    metrics = _metrics(settings)
    key = pseudonym_key(settings)
    assert not {"u1", "u2", "u3"} & set(metrics)  # the warehouse holds pseudonyms only
    u1, u2 = metrics[customer_key("u1", key)], metrics[customer_key("u2", key)]
    assert u1[:7] == ("a", 2, 1, 0.5, 0.5, 0.0, 0)
    assert u1[7] == pytest.approx(200.0) and u1[8] == pytest.approx(298.0)
    assert u1[9:] == (1, 1)
    assert u2[:7] == ("b", 2, 0, 0.0, 0.0, 0.5, 1) and u2[9:] == (1, 0)
    exposures = _rows(
        settings, "select exposure_id, turns from main_experiments.experiment_exposures order by 1"
    )
    assert sorted(exposures) == sorted(
        [(f"stack-ab/a/{customer_key('u1', key)}", 2), (f"stack-ab/b/{customer_key('u2', key)}", 2)]
    )
    assert _rows(settings, f"select count(*) from {RAW_SCHEMA}.turn_events") == [(7,)]
    audio = _rows(
        settings,
        "select audio_duration_s, audio_sample_rate from main_experiments.stg_experiment_events "
        "where audio_sample_rate is not null",
    )
    assert audio == [(2.5, 16000)]


def test_a_raw_table_loaded_by_an_older_version_gets_the_new_columns(settings: Settings) -> None:
    from experiments.warehouse_load import raw_column_types

    types = raw_column_types()
    first = list(types)[: list(types).index("worker") + 1]  # the first event schema
    with Warehouse.from_settings(settings) as warehouse:
        warehouse.create_schema(RAW_SCHEMA)
        columns = ", ".join(f'"{name}" {types[name]}' for name in first)
        warehouse.execute(f"CREATE TABLE {RAW_SCHEMA}.turn_events ({columns})")
    with EventStore.from_settings(settings) as store:
        store.write([turn("u1", "a", 10.0, audio_duration_s=2.5, audio_sample_rate=8000)])
    assert load_events(settings) == 1
    assert _rows(
        settings, f"select audio_duration_s, audio_sample_rate from {RAW_SCHEMA}.turn_events"
    ) == [(2.5, 8000)]


def test_the_publish_audit_selects_no_experiment_model(tmp_path: Path) -> None:
    dbt = _dbt(Settings(home=tmp_path), tmp_path / "dbt")
    audited = dbt("ls", "--resource-type", "model", "--resource-type", "test", *AUDIT_SELECTION)
    experiments = dbt("ls", "--select", EXPERIMENT_MODELS, "--resource-type", "model")
    assert audited.success and experiments.success
    assert sorted(name.rsplit(".", 1)[-1] for name in experiments.result) == sorted(
        EXPERIMENT_NODES
    )
    assert len(audited.result) > 50
    assert not [n for n in audited.result if "experiment" in n], audited.result

    # the Dagster asset the audit-publish job builds: no experiment model, no experiment check
    warehouse_dbt = build_dbt_assets(prepared_dbt_project())
    keys = [key.to_user_string() for key in warehouse_dbt.keys]
    checks = [check.name for check in warehouse_dbt.check_keys]
    assert keys and checks
    assert not [k for k in [*keys, *checks] if "experiment" in k]


def test_the_audit_build_command_excludes_the_experiments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands: list[list[str]] = []

    def fake_run(command: list[str], **_: object) -> subprocess.CompletedProcess:
        commands.append(command)
        raise SystemExit  # stop before reading results

    monkeypatch.setattr(dbt_build_module.subprocess, "run", fake_run)
    with pytest.raises(SystemExit):
        dbt_build(Settings(home=tmp_path), "audit_x")
    assert commands[0][-2:] == list(AUDIT_SELECTION) == ["--exclude", EXPERIMENT_MODELS]


def test_the_manifest_hash_ignores_the_experiment_models() -> None:
    node = {"original_file_path": "models/marts/nlu_examples.sql", "checksum": {"checksum": "1"}}
    experiment = {"original_file_path": "models/experiments/x.sql", "checksum": {"checksum": "2"}}
    audited = {"nodes": {"model.voiceops.nlu_examples": node}}
    with_experiment = {"nodes": {**audited["nodes"], "model.voiceops.x": experiment}}
    assert manifest_hash(with_experiment) == manifest_hash(audited)


def test_the_experiment_events_job_replays_spools_loads_and_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster import AssetKey, materialize

    from orchestration.defs.experiments.assets import (
        EVENTS_KEY,
        build_experiment_dbt_assets,
        experiment_events,
    )
    from orchestration.resources import build_resources

    monkeypatch.delenv("DBT_TARGET", raising=False)
    monkeypatch.delenv("VOICEOPS_EVENTS_URL", raising=False)
    settings = Settings(home=tmp_path / "home")
    with EventStore.from_settings(settings) as store:
        store.write([turn("u1", "a", 10.0), turn("u2", "b", 20.0)])
    # the spool of an API worker that died before its flusher ran
    spool = spool_dir(settings)
    spool.mkdir(parents=True)
    orphan = spool / f"{socket.gethostname()}-{_dead_pid()}.jsonl"
    orphan.write_text("".join(turn("u3", "a", 30.0).to_json() + "\n" for _ in range(3)))

    result = materialize(
        [experiment_events, build_experiment_dbt_assets(prepared_dbt_project())],
        resources=build_resources(settings),
    )
    assert result.success
    materialized = {
        event.asset_key: event.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    assert AssetKey(["warehouse", "experiments", "experiment_user_metrics"]) in materialized
    loaded = materialized[EVENTS_KEY]
    assert loaded["events"].value == 5 and loaded["replayed_from_spools"].value == 3
    key = pseudonym_key(settings)
    users = sorted(customer_key(user, key) for user in ("u1", "u2", "u3"))
    assert sorted(_metrics(settings)) == users and not orphan.exists()


def _dead_pid() -> int:
    process = multiprocessing.get_context("spawn").Process(target=int)
    process.start()
    process.join()
    return process.pid
