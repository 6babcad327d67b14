"""Crypto-shredding end to end: landing seals a customer's data (the lake's bytes hold none of
it), the loader opens it intact, and once their key is destroyed a fresh load has none of
their rows and says how many it left out; a later landing refuses their records, counted."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from core.sealing import Sealer
from core.settings import Settings
from ingestion import lake_landing, schemas, validation
from tests.factories import call_record, sealer_in, wav_bytes
from versioning.lake.local import LocalLake
from warehouse import Warehouse, audit_schema, connect, load_commit, raw_schema
from warehouse.schemas import all_schemas

REPO = "contact-center"
DAY, DAY2 = date(2026, 1, 1), date(2026, 1, 2)
BRANCH = "ingest-20260101-sealed"
KEY = b"test-pseudonym-key"
ALICE = {
    "customer_id": "CUST-000001",
    "full_name": "Алиса Сергеевна Крылова",
    "phone": "+7 912 345-67-89",
    "email": "alisa.krylova@example.com",
    "passport": "4512 987654",
    "language": "ru",
    "segment": "retail",
    "city": "Казань",
    "created_at": "2025-12-01T10:00:00+00:00",
    "updated_at": "2026-01-01T08:00:00+00:00",
}
BOB = ALICE | {
    "customer_id": "CUST-000002",
    "full_name": "Борис Олегович Дымов",
    "phone": "+7 913 111-22-33",
    "email": "boris.dymov@example.com",
    "passport": "4513 123123",
}
ALICE_TRANSCRIPT = "Меня зовут Алиса Крылова, заблокируйте карту"
#: What must never be readable in the lake once sealed.
ALICE_SECRETS = [
    ALICE["full_name"],
    ALICE["phone"],
    ALICE["email"],
    ALICE["passport"],
    ALICE_TRANSCRIPT,
]


@dataclass
class World:
    lake: LocalLake
    sealer: Sealer
    commit: str
    root: Path


def _calls() -> list:
    return [
        call_record("C1", day="2026-01-01", transcript=ALICE_TRANSCRIPT),
        call_record("C2", day="2026-01-01", customer_id=BOB["customer_id"]),
        call_record("C3", day="2026-01-01", transcript=ALICE_TRANSCRIPT, intent="make_coffee"),
    ]


def _land(world_lake: LocalLake, sealer: Sealer, root: Path, day: date, run: str):
    """Land customers, calls (one rejected) and two WAVs; commit; return the commit."""
    wavs = root / f"wavs-{run}"
    wavs.mkdir()
    (wavs / "C1.wav").write_bytes(wav_bytes(frames=16000))
    (wavs / "C2.wav").write_bytes(wav_bytes(frames=8000))
    common = {"run_id": run, "day": day, "sealer": sealer}
    landings = [
        lake_landing.land_records(
            world_lake, REPO, BRANCH, source="crm", stream="customers",
            checked=validation.check_crm("customers", [ALICE, BOB]), schema=schemas.CUSTOMERS,
            **common,
        ),
        lake_landing.land_records(
            world_lake, REPO, BRANCH, source="call_exports", stream="calls",
            checked=validation.check_calls(_calls()), schema=schemas.CALLS, **common,
        ),
        lake_landing.land_recordings(
            world_lake, REPO, BRANCH, directory=wavs,
            owners={"C1": ALICE["customer_id"], "C2": BOB["customer_id"]}, **common,
        ),
    ]  # fmt: skip
    return lake_landing.commit_ingestion(
        world_lake, REPO, BRANCH, run_id=run, day=day, landings=landings
    ), landings


@pytest.fixture
def world(tmp_path: Path) -> World:
    lake = LocalLake(tmp_path / "lake", fsync=False)
    lake_landing.ensure_ingest_branch(lake, REPO, BRANCH)
    sealer = sealer_in(tmp_path)
    commit, _ = _land(lake, sealer, tmp_path, DAY, "run-1")
    return World(lake, sealer, commit.id, tmp_path)


@pytest.fixture
def duckdb(tmp_path: Path) -> Iterator[Warehouse]:
    wh = connect(Settings(home=tmp_path / "home", dbt_target="duckdb"))
    try:
        yield wh
    finally:
        wh.close()


def _objects(world: World, prefix: str) -> dict[str, bytes]:
    return {
        stat.path: world.lake.read_bytes(REPO, world.commit, stat.path)
        for stat in world.lake.list_objects(REPO, world.commit, prefix)
    }


def _load(world: World, wh: Warehouse, name: str, sealer: Sealer | None = None):
    schema = audit_schema(name)
    report = load_commit(world.lake, REPO, world.commit, wh, schema, key=KEY, sealer=sealer)
    return schema, report


def _column(wh: Warehouse, schema: str, table: str, column: str) -> list:
    rows = wh.fetchall(f'SELECT "{column}" FROM "{raw_schema(schema)}"."{table}" ORDER BY 1')
    return [row[0] for row in rows]


def test_the_lake_holds_no_personal_value_in_plain_text(world: World) -> None:
    objects = _objects(world, "raw/") | _objects(world, "quarantine/")
    assert any(p.startswith("quarantine/call_exports/") for p in objects)
    for path, data in objects.items():
        text = data.decode("utf-8", errors="replace")
        if path.endswith(".parquet"):  # compressed: look at the values as stored
            text = json.dumps(pq.read_table(io.BytesIO(data)).to_pylist(), ensure_ascii=False)
        for secret in ALICE_SECRETS:
            assert secret not in text, (path, secret)
        assert ALICE["customer_id"] not in text, path
    wav = objects["raw/recordings/dt=2026-01-01/C1.wav"]
    assert not wav.startswith(b"RIFF") and world.sealer.open_blob(wav) == wav_bytes(frames=16000)


def test_the_loader_opens_everything_intact(world: World, duckdb: Warehouse) -> None:
    schema, report = _load(world, duckdb, "sealed-open", world.sealer)
    assert report.rows_erased == 0
    assert ALICE["full_name"] in _column(duckdb, schema, "crm_customers", "full_name")
    assert ALICE["passport"] in _column(duckdb, schema, "crm_customers", "passport")
    assert ALICE_TRANSCRIPT in _column(duckdb, schema, "call_exports_calls", "transcript")
    slots = _column(duckdb, schema, "call_exports_calls", "slots")
    assert json.loads(slots[0]) == {"card_last4": "1234"}
    records = _column(duckdb, schema, "quarantine", "record")
    assert any(json.loads(r).get("transcript") == ALICE_TRANSCRIPT for r in records)
    sizes = _column(duckdb, schema, "recordings", "size_bytes")
    assert sorted(sizes) == sorted([len(wav_bytes(frames=16000)), len(wav_bytes(frames=8000))])
    assert _column(duckdb, schema, "recordings", "duration_s") == [1.0, 2.0]


def test_after_the_key_is_destroyed_a_fresh_load_has_none_of_the_customer(
    world: World, duckdb: Warehouse
) -> None:
    world.sealer.store.destroy(ALICE["customer_id"])
    schema, report = _load(world, duckdb, "sealed-erased", Sealer(world.sealer.store))
    assert report.erased == {
        "crm_customers": 1,
        "call_exports_calls": 1,
        "quarantine": 1,
        "recordings": 1,
    }
    assert report.rows_erased == 4
    assert _column(duckdb, schema, "crm_customers", "customer_id") == [BOB["customer_id"]]
    assert _column(duckdb, schema, "call_exports_calls", "call_id") == ["C2"]
    assert _column(duckdb, schema, "recordings", "call_id") == ["C2"]
    assert _column(duckdb, schema, "quarantine", "record") == []
    assert _column(duckdb, schema, "_load_runs", "rows_erased") == [4]
    for name in all_schemas(schema):
        duckdb.drop_schema(name)


def test_an_erased_customer_is_not_landed_again_and_is_counted(world: World) -> None:
    world.sealer.store.destroy(ALICE["customer_id"])
    commit, landings = _land(world.lake, Sealer(world.sealer.store), world.root, DAY2, "run-2")
    by_key = {landing.key: landing for landing in landings}
    assert (by_key["crm.customers"].records, by_key["crm.customers"].erased) == (1, 1)
    calls = by_key["call_exports.calls"]
    assert (calls.records, calls.quarantined, calls.erased) == (1, 0, 2)
    assert (by_key["recordings.wav"].records, by_key["recordings.wav"].erased) == (1, 1)
    assert commit.metadata["erased.crm.customers"] == "1"
    assert commit.metadata["erased.call_exports.calls"] == "2"
    assert commit.metadata["erased.recordings.wav"] == "1"
    day2 = "dt=2026-01-02"
    assert not world.lake.exists(REPO, commit.id, f"raw/recordings/{day2}/C1.wav")
    assert not world.lake.exists(
        REPO, commit.id, f"quarantine/call_exports/calls/{day2}/rejects.jsonl"
    )
    part = world.lake.read_bytes(REPO, commit.id, f"raw/crm/customers/{day2}/part-00000.parquet")
    opened = world.sealer.open_table(pq.read_table(io.BytesIO(part)))
    assert opened.table.column("customer_id").to_pylist() == [BOB["customer_id"]]


def test_a_key_store_that_never_held_the_keys_fails_the_load_naming_the_path(
    world: World, duckdb: Warehouse, tmp_path: Path
) -> None:
    from warehouse import LoadError

    with pytest.raises(LoadError, match=r"raw/.*never held"):
        _load(world, duckdb, "sealed-wrong-store", sealer_in(tmp_path / "elsewhere"))


def test_a_warehouse_of_an_older_release_gets_the_rows_erased_column(
    world: World, duckdb: Warehouse
) -> None:
    schema = audit_schema("sealed-old-release")
    raw = raw_schema(schema)
    duckdb.create_schema(raw)
    duckdb.execute(
        f'CREATE TABLE "{raw}"."_load_runs" (lake_commit TEXT NOT NULL, repository TEXT, '
        "ref TEXT, objects_loaded BIGINT, objects_skipped BIGINT, objects_removed BIGINT, "
        "rows_loaded BIGINT, seconds DOUBLE PRECISION, loaded_at TIMESTAMP WITH TIME ZONE "
        "DEFAULT CURRENT_TIMESTAMP)"
    )
    load_commit(world.lake, REPO, world.commit, duckdb, schema, key=KEY, sealer=world.sealer)
    assert _column(duckdb, schema, "_load_runs", "rows_erased") == [0]
