"""``land_day_job`` in Airbyte server mode, against fakes (Airbyte and lakeFS cannot run here):
fake Airbyte server -> its S3 destination -> fake lakeFS S3 gateway -> the run's ingest branch
-> validation and landing -> one commit, the same ``raw/`` and ``quarantine/`` as embedded mode.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from dagster import DagsterInstance

from core.sealing import Sealer
from core.settings import Settings
from ingestion import lake_landing, schemas, validation
from ingestion.airbyte.preflight import preflight_jsonl
from ingestion.simulator import layout
from ingestion.simulator.day import DayReport, write_day
from tests.fakes.airbyte_lake_world import CALL_EXPORTS, CRM, LakeWorld, running_lake_world

pytestmark = pytest.mark.slow
REPO = "contact-center"
STREAMS = [("crm", "customers"), ("crm", "tickets"), ("call_exports", "calls")]
DAY = 1
# Seed 1, 30 calls, bad rate 0.25: every record defect but a truncated line (which fails a
# source-file sync on a server; see test_fake_truncated_export_line_fails_the_sync...).
CALLS, SEED, BAD_RATE = 30, 1, 0.25


def run_land_day(day: int):
    from orchestration.definitions import build_definitions

    job = build_definitions(Settings()).resolve_job_def("land_day_job")
    return job.execute_in_process(
        partition_key=layout.day_date(day).isoformat(),
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def parquet_rows(world: LakeWorld, ref: str, source: str, stream: str, day: int) -> list[dict]:
    path = f"raw/{source}/{stream}/dt={layout.day_date(day).isoformat()}/part-00000.parquet"
    table = pq.read_table(io.BytesIO(world.lake.read_bytes(REPO, ref, path)))
    return Sealer.from_settings(world.settings).open_table(table).table.to_pylist()


def rejects(world: LakeWorld, ref: str, source: str, stream: str, day: int) -> list[dict]:
    path = f"quarantine/{source}/{stream}/dt={layout.day_date(day).isoformat()}/rejects.jsonl"
    if not world.lake.exists(REPO, ref, path):
        return []
    sealer = Sealer.from_settings(world.settings)
    lines = world.lake.read_bytes(REPO, ref, path).splitlines()
    return [sealer.open_entry(json.loads(line)) for line in lines]


def land_like_embedded_mode(world: LakeWorld, day: int, branch: str) -> dict[str, int]:
    """What embedded mode lands for the same day on ``branch``: its CRM connector for real
    (declarative, in-process), the export through its preflight (source-file itself is not
    installed offline); then ``ingestion.validation`` + ``lake_landing`` as its assets do."""
    from ingestion.airbyte.embedded import sync_crm

    lake_landing.ensure_ingest_branch(world.lake, REPO, branch)
    the_day = layout.day_date(day)
    checks = {
        ("crm", sync.stream): validation.check_crm(sync.stream, sync.records)
        for sync in sync_crm(world.crm_url, ["customers", "tickets"], None)
    }
    preflight = preflight_jsonl(layout.calls_jsonl(world.settings.sources_root, day))
    checks["call_exports", "calls"] = validation.check_calls(
        [json.loads(line) for line in preflight.good_lines]
    )
    for reject in preflight.rejects:
        checks["call_exports", "calls"].reject(reject["raw"], reject["reason"])
    quarantined = {}
    for (source, stream), checked in checks.items():
        lake_landing.land_records(
            world.lake,
            REPO,
            branch,
            run_id="embedded",
            source=source,
            stream=stream,
            day=the_day,
            checked=checked,
            schema=schemas.BY_STREAM[(source, stream)],
            sealer=Sealer.from_settings(world.settings),
        )
        quarantined[f"{source}.{stream}"] = len(checked.rejects)
    return quarantined


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def simulate(home: Path, day: int, seed: int = SEED, bad_rate: float = BAD_RATE) -> DayReport:
    return write_day(home / "sources", day, calls=CALLS, seed=seed, bad_rate=bad_rate, audio=False)


def committed(world: LakeWorld, result, day: int) -> dict[str, str]:
    assert result.success
    branch = lake_landing.ingest_branch_name(result.run_id, layout.day_date(day))
    return world.lake.get_commit(REPO, branch).metadata


def test_fake_airbyte_server_lands_a_simulated_day_like_embedded_mode(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = simulate(home, DAY)
    assert "truncated_line" not in report.defect_counts and len(report.defects) >= 5
    with running_lake_world(home, monkeypatch) as world:
        world.serve_exports_of(DAY)
        main_head = world.lake.get_branch(REPO, "main").commit_id

        result = run_land_day(DAY)

        assert result.success
        branch = lake_landing.ingest_branch_name(result.run_id, layout.day_date(DAY))
        commit = world.lake.get_commit(REPO, branch)
        assert commit.parents == (main_head,)  # one commit on the branch, nothing else
        meta = commit.metadata
        keys = [f"{s}.{t}" for s, t in STREAMS]
        assert set(meta) == {  # the keys of an embedded-mode ingestion commit
            *(f"voiceops.{k}" for k in ("kind", "run_id", "date", "sources")),
            *(f"{kind}.{key}" for kind in ("records", "quarantined") for key in keys),
            "records.recordings.wav",
            "quarantined.recordings.wav",
            # the voice corpus runs embedded in server mode too: no delivery, nothing landed
            *(
                f"{kind}.voice_corpus.{s}"
                for kind in ("records", "quarantined")
                for s in ("utterances", "audio")
            ),
            "connector.crm",
            "connector.call_exports",
            *(f"state.{key}" for key in keys),
        }
        assert meta["voiceops.kind"] == "ingestion" and meta["voiceops.date"] == "2026-01-01"
        assert meta["connector.crm"].startswith("airbyte-server:voiceops-crm==job-")
        assert meta["connector.call_exports"].startswith(
            "airbyte-server:voiceops-call-exports==job-"
        )
        for stream in ("customers", "tickets"):  # Airbyte's cursor, kept beside the data
            state = json.loads(meta[f"state.crm.{stream}"])
            assert state["stream"]["stream_state"]["updated_at"].startswith("2026-01-01")
        # a full-refresh stream has no Airbyte state: the job that read it is kept instead
        assert json.loads(meta["state.call_exports.calls"]) == {
            "sync_mode": "full_refresh",
            "airbyte_job_id": world.airbyte.jobs_for(CALL_EXPORTS)[0].job_id,
        }
        # the staged JSONL never reaches the commit
        assert list(world.lake.list_objects(REPO, commit.id, "_airbyte/")) == []

        # the same raw tables and quarantine counts as embedded mode for the same day
        quarantined = land_like_embedded_mode(world, DAY, "embedded-reference")
        for source, stream in STREAMS:
            key = f"{source}.{stream}"
            server = parquet_rows(world, commit.id, source, stream, DAY)
            embedded = parquet_rows(world, "embedded-reference", source, stream, DAY)
            assert server == embedded, key
            assert meta[f"records.{key}"] == str(len(server))
            assert meta[f"quarantined.{key}"] == str(quarantined[key])
        assert int(meta["records.crm.customers"]) > 0 and int(meta["records.crm.tickets"]) > 0

        # every planted bad record is quarantined once, with a reason naming the field
        bad = rejects(world, commit.id, "call_exports", "calls", DAY)
        assert len(bad) == len(report.defects) == quarantined["call_exports.calls"]
        assert sorted(r["record"]["call_id"] for r in bad) == sorted(
            d["call_id"] for d in report.defects
        )
        fields = {
            "empty_transcript": "transcript",
            "unknown_intent": "intent",
            "duplicate_call_id": "call_id",
            "wrong_type_duration": "duration_s",
            "wrong_type_slots": "slots",
        }
        reasons = {r["record"]["call_id"]: r["reason"] for r in bad}
        for defect in report.defects:
            if defect["kind"] != "duplicate_call_id":  # its id is also a good call's
                assert fields[defect["kind"]] in reasons[defect["call_id"]]
        # a value the destination could not type was nulled by Airbyte, and the reason says so
        typed = [r for r in bad if "Airbyte changed the record" in r["reason"]]
        assert {d["kind"] for d in report.defects} >= {"wrong_type_duration", "wrong_type_slots"}
        assert typed and all("NULLED" in r["reason"] for r in typed)

        # the pattern: destination at <branch>/_airbyte on the gateway, signed with lakeFS keys
        for source in ("crm", "call_exports"):
            destination = world.airbyte.destination(f"voiceops-lake-{source.replace('_', '-')}")
            assert destination.configuration["s3_bucket_path"] == f"{branch}/_airbyte"
            assert destination.configuration["s3_bucket_name"] == REPO
            assert destination.configuration["s3_endpoint"] == world.gateway.endpoint
        connection = world.airbyte.connection(CRM)
        assert (connection.namespace_definition, connection.namespace_format) == (
            "custom_format",
            "crm",
        )
        puts = [r.path for r in world.gateway.requests if r.method == "PUT"]
        assert puts and all(p.startswith(f"/{REPO}/{branch}/_airbyte/") for p in puts)
        assert {r.access_key_id for r in world.gateway.requests} == {world.gateway.access_key_id}


def test_fake_truncated_export_line_fails_the_sync_and_commits_nothing(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = simulate(home, DAY, seed=2)
    assert "truncated_line" in report.defect_counts  # embedded mode's preflight quarantines it
    with running_lake_world(home, monkeypatch) as world:
        world.serve_exports_of(DAY)
        main_head = world.lake.get_branch(REPO, "main").commit_id

        result = run_land_day(DAY)

        assert not result.success
        branch = lake_landing.ingest_branch_name(result.run_id, layout.day_date(DAY))
        assert world.lake.get_branch(REPO, branch).commit_id == main_head  # nothing committed
        (job,) = world.airbyte.jobs_for(CALL_EXPORTS)
        assert job.status == "failed" and "is not JSON" in job.failure
        failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
        assert "voiceops-call-exports" in failure.event_specific_data.error.message
        assert "is not JSON" in failure.event_specific_data.error.message


def test_fake_next_day_resumes_from_the_lake_state_and_a_deleted_branch_is_pulled_again(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulate(home, 1)
    with running_lake_world(home, monkeypatch) as world:
        world.serve_exports_of(1)
        day1 = committed(world, run_land_day(1), 1)
        report2 = simulate(home, 2, bad_rate=0.0)
        world.serve_exports_of(2)

        second = run_land_day(2)
        day2 = committed(world, second, 2)

        restores = [
            r.body["connectionState"]["streamState"]
            for r in world.airbyte.requests
            if r.path == "/state/create_or_update_safe"
            and r.body["connectionId"] == world.airbyte.connection(CRM).connection_id
        ]
        assert restores[0] == []  # nothing in the lake yet: Airbyte reads from the start
        day1_cursor = json.loads(day1["state.crm.customers"])["stream"]["stream_state"]
        assert {"streamDescriptor": {"name": "customers"}, "streamState": day1_cursor} in (
            restores[1]
        )
        # day 2 pulls what changed since day 1's cursor (inclusive: the rows at the cursor too)
        changed = report2.crm["customers_new"] + report2.crm["customers_updated"]
        assert changed <= int(day2["records.crm.customers"]) < int(day1["records.crm.customers"])
        assert day2["records.call_exports.calls"] == str(CALLS)

        # the day-2 branch is deleted (say the publish gate refused it): its records come again
        world.lake.delete_branch(
            REPO, lake_landing.ingest_branch_name(second.run_id, layout.day_date(2))
        )
        again = committed(world, run_land_day(2), 2)

        for key in ("records.crm.customers", "records.crm.tickets"):
            assert again[key] == day2[key]
        assert again["state.crm.tickets"] == day2["state.crm.tickets"]
