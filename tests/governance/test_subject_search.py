"""``voiceops privacy find``: a planted customer is found in every layer and at every lake ref,
with counts; another customer's data never shows up; ``--expect-none`` decides the exit code."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from core.pseudonym import customer_key, pseudonym_key
from core.settings import Settings
from experiments.event_store import EventStore
from experiments.events import Event
from governance.subject import Subject
from governance.subject_search import search
from ingestion import schemas
from ingestion.simulator import crm
from ingestion.simulator import layout as lay
from tests.conftest import SERVER_VARIABLES
from tests.postgres import throwaway_database
from versioning.lake import open_lake
from voiceops.cli import app
from warehouse.connection import connect

ALICE = {
    "customer_id": "CUST-001001", "full_name": "Alice Walker", "phone": "+44 7700 900123",
    "email": "alice.walker@example.com", "passport": "X1234567",
}  # fmt: skip
BORIS = {
    "customer_id": "CUST-001002", "full_name": "Иванов Борис Петрович", "language": "ru",
    "phone": "+7 (912) 345-67-89",
    "email": "b.ivanov@example.ru", "passport": "4510 987654",
}  # fmt: skip
DT = "dt=2026-01-01"


def _customer(person: dict[str, str]) -> dict[str, str]:
    extra = {"language": "en", "segment": "mass", "city": "London"} | person
    stamps = {"created_at": "2026-01-01T09:00:00+00:00", "updated_at": "2026-01-01T09:00:00+00:00"}
    return person | extra | stamps


def _call(call_id: str, person: dict[str, str], transcript: str) -> dict[str, object]:
    fields = dict.fromkeys(lay.CALL_FIELDS, "")
    return fields | {
        "call_id": call_id, "customer_id": person["customer_id"], "transcript": transcript,
        "duration_s": 1.0, "sample_rate": 8000, "recording": f"{call_id}.wav",
    }  # fmt: skip


def _parquet(rows: list[dict[str, object]], schema: pa.Schema) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), buffer)
    return buffer.getvalue()


CALLS = [
    _call("C1", ALICE, "my number is 07700 900123 thanks"),
    _call("C2", BORIS, "перезвоните мне, это Борис Иванов"),
]


def _lake(settings: Settings) -> dict[str, str]:
    """main: day 1 (customers, calls, recordings) then an unrelated commit; tag v1 at day 1;
    ingest-2 from day 1 with a quarantine file naming both customers and a quarantined WAV."""
    lake, repo = open_lake(settings), settings.lake_repository
    lake.create_repository(repo)
    lake.create_branch(repo, "ingest-1", "main")
    customers = _parquet([_customer(ALICE), _customer(BORIS)], schemas.CUSTOMERS)
    lake.upload(repo, "ingest-1", f"raw/crm/customers/{DT}/part-0.parquet", customers)
    lake.upload(repo, "ingest-1", f"raw/call_exports/calls/{DT}/part-0.parquet",
                _parquet(CALLS, schemas.CALLS))  # fmt: skip
    for call in ("C1", "C2"):
        lake.upload(repo, "ingest-1", f"raw/recordings/{DT}/{call}.wav", b"RIFF" + call.encode())
    day1 = lake.commit(repo, "ingest-1", "day 1").id
    lake.merge(repo, "ingest-1", "main")
    lake.delete_branch(repo, "ingest-1")
    lake.create_tag(repo, "v1", day1)
    lake.create_branch(repo, "ingest-2", day1)
    rejects = "".join(
        json.dumps({"reason": "bad", "record": {"call_id": c, "customer_id": p["customer_id"]}})
        + "\n"
        for c, p in (("C3", ALICE), ("C4", BORIS))
    )
    lake.upload(repo, "ingest-2", f"quarantine/call_exports/calls/{DT}/rejects.jsonl",
                rejects.encode())  # fmt: skip
    lake.upload(repo, "ingest-2", f"quarantine/recordings/{DT}/C3.wav", b"RIFF-C3")
    quarantined = lake.commit(repo, "ingest-2", "day 2, refused").id
    lake.create_branch(repo, "work", "main")
    lake.upload(repo, "work", "docs/readme.txt", b"nothing personal")
    later = lake.commit(repo, "work", "unrelated").id
    return {"day1": day1, "quarantined": quarantined, "later": later}


def _warehouse(settings: Settings, key: bytes) -> None:
    with connect(settings) as db:
        for schema in ("audit_ingest_2_raw", "published_marts", "experiments"):
            db.create_schema(schema)
        db.execute(
            'CREATE TABLE audit_ingest_2_raw.call_exports_calls '
            "(call_id TEXT, customer_id TEXT, customer_key TEXT, transcript TEXT)"
        )  # fmt: skip
        for call_id, person, text in (
            ("C1", ALICE, "call me on 07700-900-123"),
            ("C5", ALICE, "hello"),
            ("C2", BORIS, "alice walker is my neighbour"),
        ):
            row = (call_id, person["customer_id"], customer_key(person["customer_id"], key), text)
            db.execute("INSERT INTO audit_ingest_2_raw.call_exports_calls VALUES (?, ?, ?, ?)", row)
        db.execute("CREATE TABLE audit_ingest_2_raw.recordings (call_id TEXT, lake_path TEXT)")
        db.execute("INSERT INTO audit_ingest_2_raw.recordings VALUES ('C1', 'x'), ('C2', 'y')")
        db.execute("CREATE TABLE published_marts.nlu_examples (customer_key TEXT, text TEXT)")
        db.execute("INSERT INTO published_marts.nlu_examples VALUES (?, 'hi')",
                   (customer_key(ALICE["customer_id"], key),))  # fmt: skip
        db.execute("CREATE TABLE experiments.turn_events (user_id TEXT, intent TEXT)")
        for person in (ALICE, ALICE, BORIS):
            db.execute("INSERT INTO experiments.turn_events VALUES (?, 'x')",
                       (customer_key(person["customer_id"], key),))  # fmt: skip
        db.execute("CREATE TABLE published_marts.dates (d TEXT)")  # no customer column
        db.execute("INSERT INTO published_marts.dates VALUES ('CUST-001001')")


def _sources(settings: Settings) -> None:
    root = settings.sources_root
    with crm.connect(lay.crm_database(root)) as conn:
        for person in (ALICE, BORIS):
            row = _customer(person)
            marks = ", ".join("?" for _ in row)
            conn.execute(f"INSERT INTO customers ({', '.join(row)}) VALUES ({marks})",
                         list(row.values()))  # fmt: skip
    conn.close()
    exports = lay.calls_jsonl(root, 1)
    exports.parent.mkdir(parents=True)
    exports.write_text("".join(json.dumps(call) + "\n" for call in CALLS))
    recordings = lay.recordings_dir(root, 1)
    recordings.mkdir(parents=True)
    for call in ("C1", "C2"):
        (recordings / f"{call}.wav").write_bytes(b"RIFF")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, str]]:
    home = tmp_path_factory.mktemp("subject") / "home"
    with pytest.MonkeyPatch.context() as patch:
        for name in SERVER_VARIABLES:
            patch.delenv(name, raising=False)
        settings = Settings(home=home, lake_fsync=False)
        commits = _lake(settings)
        _warehouse(settings, pseudonym_key(settings))
        with EventStore.from_settings(settings) as store:
            users = (ALICE, ALICE, ALICE, BORIS)
            store.write([Event(user_id=p["customer_id"], session_id="s") for p in users])
        _sources(settings)
        log = home / "airbyte" / "logs" / "sync-1.log"
        log.parent.mkdir(parents=True)
        log.write_text(f"read record {ALICE['email']}\nread record {BORIS['email']}\n")
    return settings, commits


def _found(settings: Settings, customer: str) -> dict[tuple[str, str, str], tuple]:
    report = search(settings, customer)
    return {(f.layer, f.where, f.kind): (f.count, f.refs, len(f.commits)) for f in report.findings}


def test_a_customer_is_found_in_every_layer_and_at_every_ref(world) -> None:
    settings, commits = world
    found = _found(settings, ALICE["customer_id"])
    everywhere = ("ingest-2", "main", "tag:v1", "work")
    part = f"raw/crm/customers/{DT}/part-0.parquet"
    # one row, read once, held by day 1, the refused commit and the later one on work
    for kind in ("customer_id", "full_name", "phone", "email", "passport"):
        assert found["lake", part, kind] == (1, everywhere, 3)
    calls = f"raw/call_exports/calls/{DT}/part-0.parquet"
    assert found["lake", calls, "customer_id"] == (1, everywhere, 3)
    assert found["lake", calls, "phone"][0] == 1  # said in the transcript, other format
    assert found["lake", f"raw/recordings/{DT}/C1.wav", "call_recording"][0] == 1
    rejects = f"quarantine/call_exports/calls/{DT}/rejects.jsonl"
    assert found["lake", rejects, "customer_id"] == (1, ("ingest-2",), 1)
    report = search(settings, ALICE["customer_id"])
    held = next(f for f in report.findings if f.where == rejects)
    assert held.commits == (commits["quarantined"],)
    assert found["lake", f"quarantine/recordings/{DT}/C3.wav", "call_recording"][:2] == (
        1, ("ingest-2",))  # fmt: skip
    table = "audit_ingest_2_raw.call_exports_calls"
    assert found["warehouse", f"{table}.customer_id", "customer_id"] == (2, (), 0)
    assert found["warehouse", f"{table}.customer_key", "customer_key"] == (2, (), 0)
    assert found["warehouse", f"{table}.transcript", "phone"] == (1, (), 0)
    assert found["warehouse", f"{table}.transcript", "full_name"] == (1, (), 0)  # Boris's call
    assert found["warehouse", "published_marts.nlu_examples.customer_key", "customer_key"][0] == 1
    assert found["warehouse", "audit_ingest_2_raw.recordings.call_id", "call_id"][0] == 1  # C1
    assert found["warehouse", "experiments.turn_events.user_id", "customer_key"][0] == 2
    assert not [key for key in found if key[1].startswith("published_marts.dates")]
    events = [v[0] for k, v in found.items() if k[0] == "events" and k[2] == "customer_id"]
    assert events == [3]
    assert found["sources", "crm/crm.sqlite3:customers", "email"][0] == 1
    assert found["sources", f"call_exports/{DT}/calls.jsonl", "customer_id"][0] == 1
    assert found["sources", f"recordings/{DT}/C1.wav", "call_recording"][0] == 1
    assert found["connector_logs", "sync-1.log", "email"][0] == 1


def test_another_customer_s_data_does_not_show_up(world) -> None:
    settings, _ = world
    found = _found(settings, BORIS["customer_id"])
    wavs = {key[1].rsplit("/", 1)[-1] for key in found if key[2] == "call_recording"}
    assert wavs == {"C2.wav"}  # in the lake and the sources; never C1 or C3
    rejects = f"quarantine/call_exports/calls/{DT}/rejects.jsonl"
    assert found["lake", rejects, "customer_id"][0] == 1
    calls = f"raw/call_exports/calls/{DT}/part-0.parquet"
    assert found["lake", calls, "full_name"][0] == 1  # said as first and last name
    assert ("lake", calls, "phone") not in found
    table = "audit_ingest_2_raw.call_exports_calls"
    assert found["warehouse", f"{table}.customer_id", "customer_id"][0] == 1
    assert ("warehouse", f"{table}.transcript", "phone") not in found
    assert found["warehouse", "audit_ingest_2_raw.recordings.call_id", "call_id"][0] == 1  # C2
    assert ("warehouse", "published_marts.nlu_examples.customer_key", "customer_key") not in found
    assert [v[0] for k, v in found.items() if k[0] == "events"] == [1]
    assert found["connector_logs", "sync-1.log", "email"][0] == 1


def test_expect_none_exits_1_when_found_and_0_for_an_unknown_customer(world, monkeypatch) -> None:
    settings, _ = world
    monkeypatch.setenv("VOICEOPS_HOME", str(settings.home))
    monkeypatch.setenv("VOICEOPS_LAKE_FSYNC", "false")
    for name in SERVER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    found = runner.invoke(app, ["privacy", "find", "--customer", ALICE["customer_id"]])
    assert found.exit_code == 0, found.output
    assert "| lake | raw/crm/customers/" in found.output
    assert "not searchable: serving response audio" in found.output
    proof = ["privacy", "find", "--customer", ALICE["customer_id"], "--expect-none", "--json"]
    refused = runner.invoke(app, proof)
    assert refused.exit_code == 1
    assert json.loads(refused.output)["counts"]["lake"] > 0
    unknown = runner.invoke(app, ["privacy", "find", "--customer", "CUST-999999",
                                  "--expect-none", "--json"])  # fmt: skip
    assert unknown.exit_code == 0, unknown.output
    report = json.loads(unknown.output)
    assert report["total"] == 0 and report["record_from"] == ""
    assert report["identifiers"] == ["customer_id", "customer_key"]


def test_the_warehouse_and_events_are_searched_on_postgres_too(tmp_path) -> None:
    with throwaway_database("voiceops_subject") as url:
        database = url.rsplit("/", 1)[-1]
        settings = Settings(home=tmp_path / "home", dbt_target="postgres",
                            pg_database=database, events_url=url)  # fmt: skip
        _warehouse(settings, pseudonym_key(settings))
        _sources(settings)  # the CRM record: name and phone
        with EventStore.from_settings(settings) as store:
            store.write([Event(user_id=p["customer_id"], session_id="s") for p in (ALICE, BORIS)])
        found = _found(settings, ALICE["customer_id"])
    table = "audit_ingest_2_raw.call_exports_calls"
    assert found["warehouse", f"{table}.customer_id", "customer_id"][0] == 2
    assert found["warehouse", f"{table}.transcript", "phone"][0] == 1
    assert found["warehouse", f"{table}.transcript", "full_name"][0] == 1
    assert found["warehouse", "experiments.turn_events.user_id", "customer_key"][0] == 2
    assert [v[0] for k, v in found.items() if k[0] == "events"] == [1]
    # the events table shares the database here, so the warehouse search sees it too
    assert found["warehouse", "public.turn_events.user_id", "customer_id"][0] == 1


def test_identifiers_gathered_before_an_erasure_are_searched_as_given(world) -> None:
    settings, _ = world
    key = customer_key("CUST-000000", pseudonym_key(settings))
    values = {"customer_id": "CUST-000000", "customer_key": key, "email": ALICE["email"]}
    report = search(settings, "CUST-000000", Subject("CUST-000000", values))
    assert {f.kind for f in report.findings} == {"email"}
    assert ("connector_logs", "sync-1.log") in {(f.layer, f.where) for f in report.findings}
