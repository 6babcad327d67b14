"""``voiceops privacy erase``: two customers erased from a world over every layer, with the lake
landed sealed (the key's destruction is what erases it there); a third customer keeps every
row, event, file line and lake value; the proof search finds nothing; dry runs change
nothing; a second erasure is idempotent; the record and the trail hold no identifier; plain
(legacy) lake data fails the proof and is named."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from core.pseudonym import customer_key, pseudonym_key
from core.sealing import Sealer, SubjectKeyStore
from core.settings import Settings
from core.trail import check, open_trail
from experiments.event_store import EventStore
from experiments.events import Event
from governance.erasure import erase
from governance.subject import identify
from governance.subject_search import search
from ingestion import schemas
from ingestion.simulator import crm
from ingestion.simulator import layout as lay
from tests.conftest import SERVER_VARIABLES
from tests.governance.test_subject_search import (
    ALICE,
    BORIS,
    CALLS,
    DT,
    _call,
    _customer,
    _parquet,
    _sources,
    _warehouse,
)
from tests.postgres import throwaway_database
from versioning.lake import open_lake
from voiceops.cli import app
from warehouse.connection import connect

CAROL = {
    "customer_id": "CUST-001003", "full_name": "Carol Danvers", "phone": "+44 7700 900999",
    "email": "carol.danvers@example.com", "passport": "Y7654321",
}  # fmt: skip
CAROL_CALL = _call("C6", CAROL, "please email carol.danvers@example.com")
ERASED = (ALICE, BORIS)


def _lake(settings: Settings, sealer: Sealer | None) -> None:
    """main: day 1 (customers, calls, recordings of all three), tag v1; ingest-2: a refused
    day with quarantined rejects and a WAV; work: an unrelated commit. Sealed with
    ``sealer`` (None: plain, as landed before sealing existed)."""

    def seal(rows: list[dict]) -> list[dict]:
        return [sealer.seal_record(row) for row in rows] if sealer else rows

    def wav(call: str, person: dict[str, str]) -> bytes:
        data = b"RIFF" + call.encode()
        return sealer.seal_blob(person["customer_id"], data) if sealer else data

    lake, repo = open_lake(settings), settings.lake_repository
    lake.create_repository(repo)
    lake.create_branch(repo, "ingest-1", "main")
    customers = seal([_customer(p) for p in (ALICE, BORIS, CAROL)])
    lake.upload(repo, "ingest-1", f"raw/crm/customers/{DT}/part-0.parquet",
                _parquet(customers, schemas.CUSTOMERS))  # fmt: skip
    lake.upload(repo, "ingest-1", f"raw/call_exports/calls/{DT}/part-0.parquet",
                _parquet(seal([*CALLS, CAROL_CALL]), schemas.CALLS))  # fmt: skip
    for call, person in (("C1", ALICE), ("C2", BORIS), ("C6", CAROL)):
        lake.upload(repo, "ingest-1", f"raw/recordings/{DT}/{call}.wav", wav(call, person))
    day1 = lake.commit(repo, "ingest-1", "day 1").id
    lake.merge(repo, "ingest-1", "main")
    lake.delete_branch(repo, "ingest-1")
    lake.create_tag(repo, "v1", day1)
    lake.create_branch(repo, "ingest-2", day1)
    rejects = [
        {"reason": "bad", "record": {"call_id": c, "customer_id": p["customer_id"]}}
        for c, p in (("C3", ALICE), ("C4", BORIS), ("C7", CAROL))
    ]
    if sealer:
        rejects = [sealer.seal_reject(r) for r in rejects]
    lake.upload(repo, "ingest-2", f"quarantine/call_exports/calls/{DT}/rejects.jsonl",
                "".join(json.dumps(r) + "\n" for r in rejects).encode())  # fmt: skip
    lake.upload(repo, "ingest-2", f"quarantine/recordings/{DT}/C3.wav", wav("C3", ALICE))
    lake.commit(repo, "ingest-2", "day 2, refused")
    lake.create_branch(repo, "work", "main")
    lake.upload(repo, "work", "docs/readme.txt", b"nothing personal")
    lake.commit(repo, "work", "unrelated")


def _more_warehouse(settings: Settings, key: bytes) -> None:
    """Carol's rows beside Alice's and Boris's, a view, and a quarantine table."""
    carol = CAROL["customer_id"]
    with connect(settings) as db:
        db.execute("INSERT INTO audit_ingest_2_raw.call_exports_calls VALUES (?, ?, ?, ?)",
                   ("C6", carol, customer_key(carol, key), "bye"))  # fmt: skip
        db.execute("INSERT INTO audit_ingest_2_raw.recordings VALUES ('C6', 'z')")
        db.execute("INSERT INTO published_marts.nlu_examples VALUES (?, 'hi')",
                   (customer_key(carol, key),))  # fmt: skip
        db.execute("INSERT INTO experiments.turn_events VALUES (?, 'x')",
                   (customer_key(carol, key),))  # fmt: skip
        db.execute("CREATE VIEW published_marts.calls AS "
                   "SELECT * FROM audit_ingest_2_raw.call_exports_calls")  # fmt: skip
        db.execute("CREATE TABLE audit_ingest_2_raw.quarantine (reason TEXT, record TEXT)")
        for person in (ALICE, CAROL):
            db.execute("INSERT INTO audit_ingest_2_raw.quarantine VALUES ('bad', ?)",
                       (json.dumps({"customer_id": person["customer_id"]}),))  # fmt: skip


def _more_sources(settings: Settings) -> None:
    """Carol in the CRM and the exports, a ticket of Alice's, the CSV and a manifest."""
    root = settings.sources_root
    with crm.connect(lay.crm_database(root)) as conn:
        row = _customer(CAROL)
        conn.execute(f"INSERT INTO customers ({', '.join(row)}) VALUES "
                     f"({', '.join('?' for _ in row)})", list(row.values()))  # fmt: skip
        conn.execute("INSERT INTO tickets VALUES ('T1', ?, 'C1', 'open', 'card', 'n', 'x', 'x')",
                     (ALICE["customer_id"],))  # fmt: skip
    conn.close()
    with lay.calls_jsonl(root, 1).open("a") as exports:
        exports.write(json.dumps(CAROL_CALL) + "\n")
    lines = [",".join(lay.CALL_FIELDS)]
    lines += [f'{c["call_id"]},{c["customer_id"]},"{c["transcript"]}"' for c in CALLS]
    lines.append(f"C6,{CAROL['customer_id']},bye")
    lay.calls_csv(root, 1).write_text("\n".join(lines) + "\n")
    (lay.recordings_dir(root, 1) / "C6.wav").write_bytes(b"RIFF")
    manifest = lay.day_manifest(root, 1)
    manifest.parent.mkdir(parents=True)
    defects = [{"call_id": c, "kind": "bad_intent"} for c in ("C1", "C6")]
    manifest.write_text(json.dumps({"day": 1, "defects": defects}))


def _world(home: Path, *, sealed: bool = True, **settings_args: object) -> Settings:
    settings = Settings(home=home, lake_fsync=False, **settings_args)
    _lake(settings, Sealer.from_settings(settings) if sealed else None)
    key = pseudonym_key(settings)
    _warehouse(settings, key)
    _more_warehouse(settings, key)
    with EventStore.from_settings(settings) as store:
        users = (ALICE, ALICE, ALICE, BORIS, CAROL, CAROL)
        store.write([Event(user_id=p["customer_id"], session_id="s") for p in users])
    _sources(settings)
    _more_sources(settings)
    log = home / "airbyte" / "logs" / "sync-1.log"
    log.parent.mkdir(parents=True)
    log.write_text("".join(f"read record {p['email']}\n" for p in (ALICE, BORIS, CAROL)))
    return settings


def _lake_objects(settings: Settings) -> dict[tuple[str, str], str]:
    """(ref, path) -> checksum of every object at every branch and tag."""
    lake, repo = open_lake(settings), settings.lake_repository
    refs = [b.id for b in lake.list_branches(repo)] + [t.id for t in lake.list_tags(repo)]
    return {
        (ref, item.path): item.checksum
        for ref in refs
        for item in lake.list_objects(repo, ref)
        if hasattr(item, "checksum")
    }


def _findings(settings: Settings, person: dict[str, str]) -> set[tuple]:
    report = search(settings, person["customer_id"])
    return {(f.layer, f.where, f.kind, f.count, f.refs) for f in report.findings}


def _identifiers(settings: Settings, person: dict[str, str]) -> list[str]:
    subject = identify(settings, person["customer_id"])
    return [*subject.values.values(), *subject.name_forms, person["phone"]]


def test_two_customers_erased_from_every_layer_and_ref_and_a_third_kept(world) -> None:
    settings = world
    identifiers = {p["customer_id"]: _identifiers(settings, p) for p in ERASED}
    carol_before = _findings(settings, CAROL)
    objects_before = _lake_objects(settings)
    reports = [erase(settings, p["customer_id"]) for p in ERASED]
    for report in reports:
        assert report.key_destroyed and not report.already_erased
        # customers, calls, quarantine rejects, their recordings (C3 in quarantine for Alice)
        assert len(report.lake.sealed) == (5 if report.customer_id == ALICE["customer_id"] else 4)
        assert report.lake.plain == []
        assert report.ok and report.proof.total() == 0, report.proof.findings
        assert report.before.counts()["lake"] > 0 and report.before.counts()["warehouse"] > 0
    alice = reports[0].counts()
    assert alice == {"warehouse": 8, "events": 3, "sources": 6, "connector_logs": 1}
    # nothing of either customer left anywhere, at any ref (tags, refused ingest-2 included)
    for person in ERASED:
        subject = identify(settings, person["customer_id"])
        assert search(settings, person["customer_id"], subject).total() == 0
    # the lake was not rewritten: every ref holds the same bytes
    assert _lake_objects(settings) == objects_before
    # Carol: every finding as before, her sealed values still open
    assert _findings(settings, CAROL) == carol_before
    lake = open_lake(settings)
    part = lake.read_bytes(
        settings.lake_repository, "main", f"raw/crm/customers/{DT}/part-0.parquet"
    )
    opened = Sealer.from_settings(settings).open_table(pq.read_table(io.BytesIO(part)))
    assert opened.table.column("full_name").to_pylist() == [CAROL["full_name"]]
    assert opened.erased_rows == 2
    with EventStore.from_settings(settings) as store:
        assert store.count_of_users([CAROL["customer_id"]]) == 2 and store.count() == 2
    # the suppression list: a landing after the erasure refuses their records
    sealer = Sealer.from_settings(settings)
    for person in ERASED:
        assert sealer.seal_record({"customer_id": person["customer_id"], "x": "1"}) is None
    assert sealer.seal_record({"customer_id": CAROL["customer_id"], "x": "1"}) is not None
    assert SubjectKeyStore.from_settings(settings).counts()["erased_subjects"] == 2
    # the trail still verifies; its entries and the JSON records hold no identifier
    trail = open_trail(settings)
    count, problem = check(trail)
    assert problem is None and count == 2
    entries = list(trail.entries(action="erasure"))
    assert [e.subject for e in entries] == [f"erasure:{r.erasure_id}" for r in reports]
    details = json.loads(entries[0].details)
    assert details["key_destroyed"] is True and details["lake_objects_rewritten"] == 0
    assert details["deleted"] == alice
    assert details["found_before_total"] == reports[0].before.total() > 0
    for report in reports:
        record = settings.home / "governance" / "erasures" / f"{report.erasure_id}.json"
        text = record.read_text() + "".join(e.subject + e.details for e in entries)
        for values in identifiers.values():
            assert [v for v in values if v.lower() in text.lower()] == []


def _content_digest(path: Path) -> str:
    """sha256 of a file's bytes; of a SQLite database's SQL dump, so a checkpoint that moves
    its write-ahead log into the file (any reader's last close may) is no change."""
    if path.read_bytes()[:16] != b"SQLite format 3\x00":
        return hashlib.sha256(path.read_bytes()).hexdigest()
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return hashlib.sha256("\n".join(db.iterdump()).encode()).hexdigest()


def test_a_dry_run_changes_nothing(world) -> None:
    settings = world

    def state() -> tuple:
        """Every file's content (a SQLite database's rows, its WAL and shared-memory index
        within them), the search findings, the warehouse rows and the key store."""
        files = sorted(
            (str(p), _content_digest(p))
            for p in settings.home.rglob("*")
            if p.is_file() and not p.name.endswith(("-shm", "-wal"))
        )
        found = tuple(sorted(_findings(settings, p)) for p in (*ERASED, CAROL))
        with connect(settings) as db:
            rows = db.fetchall("SELECT count(*) FROM audit_ingest_2_raw.call_exports_calls")
        return files, found, rows, SubjectKeyStore.from_settings(settings).counts()

    before = state()
    plan = erase(settings, ALICE["customer_id"], dry_run=True)
    assert plan.counts() == {"warehouse": 8, "events": 3, "sources": 6, "connector_logs": 1}
    assert len(plan.lake.sealed) == 5 and not plan.key_destroyed and plan.proof is None
    assert not plan.ok
    after = state()
    assert dict(after[0]) == dict(before[0]), "files changed"
    assert after[1:] == before[1:]
    assert not (settings.home / "governance" / "erasures").exists()
    assert list(open_trail(settings).entries()) == []


def test_the_cli_erases_then_a_second_erasure_is_idempotent(world) -> None:
    runner = CliRunner()
    command = ["privacy", "erase", "--customer", ALICE["customer_id"]]
    plan = runner.invoke(app, [*command, "--dry-run"])
    assert plan.exit_code == 0, plan.output
    assert "would delete" in plan.output and "key would be destroyed" in plan.output
    assert "found before: " in plan.output
    first = runner.invoke(app, [*command, "--json"])
    report = json.loads(first.output)
    assert report["lake"]["key_destroyed"] is True
    assert report["deleted"]["events"] == 3
    assert first.exit_code == 0 and report["proof"]["total"] == 0
    second = runner.invoke(app, command)
    assert second.exit_code == 0, second.output
    assert "already erased" in second.output
    assert "key none left to destroy" in second.output
    assert "erased: proof: nothing found" in second.output
    assert open_trail(world).entries(action="erasure")


def test_plain_legacy_lake_data_fails_the_proof_and_is_named(tmp_path, monkeypatch) -> None:
    for name in SERVER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VOICEOPS_LAKE_FSYNC", "false")
    settings = _world(tmp_path / "home", sealed=False)
    result = CliRunner().invoke(app, ["privacy", "erase", "--customer", ALICE["customer_id"]])
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "PLAIN text" in output and "no key erases them" in output
    part = f"raw/crm/customers/{DT}/part-0.parquet"
    assert (
        f"{part} (customer_id, email, full_name, passport, phone) at ingest-2, main, tag:v1, work"
        in output
    )
    assert f"quarantine/call_exports/calls/{DT}/rejects.jsonl (customer_id) at ingest-2" in output
    assert f"quarantine/recordings/{DT}/C3.wav (call_recording) at ingest-2" in output
    assert "erasure incomplete" in output and "| lake | " + part in output
    # everything else went all the same
    report = erase(settings, ALICE["customer_id"])
    assert report.already_erased and {f.layer for f in report.proof.findings} == {"lake"}


def test_the_warehouse_and_events_are_erased_on_postgres_too(tmp_path) -> None:
    with throwaway_database("voiceops_erasure") as url:
        database = url.rsplit("/", 1)[-1]
        settings = Settings(home=tmp_path / "home", dbt_target="postgres", lake_fsync=False,
                            pg_database=database, events_url=url)  # fmt: skip
        key = pseudonym_key(settings)
        _warehouse(settings, key)
        _more_warehouse(settings, key)
        _sources(settings)
        with EventStore.from_settings(settings) as store:
            store.write([Event(user_id=p["customer_id"], session_id="s")
                         for p in (ALICE, BORIS, CAROL)])  # fmt: skip
        report = erase(settings, ALICE["customer_id"])
        assert report.ok, report.proof.findings
        # the events table shares the database: the warehouse pass deletes its row first
        assert report.counts()["warehouse"] == 9
        with connect(settings) as db:
            left = db.fetchall("SELECT call_id FROM audit_ingest_2_raw.call_exports_calls "
                               "ORDER BY call_id")  # fmt: skip
            quarantined = db.scalar("SELECT count(*) FROM audit_ingest_2_raw.quarantine")
        assert left == [("C6",)] and quarantined == 1  # Boris's row named Alice
        with EventStore.from_settings(settings) as store:
            assert store.count() == 2


def test_a_step_failing_after_the_key_destruction_is_recorded_and_a_rerun_finishes(
    world, monkeypatch
) -> None:
    from governance import erasure_layers

    def broken(*_: object) -> list:
        raise RuntimeError(f"events store down for {ALICE['customer_id']}")

    with monkeypatch.context() as patch:
        patch.setattr(erasure_layers, "events", broken)
        with pytest.raises(RuntimeError):
            erase(world, ALICE["customer_id"])
    (record,) = (world.home / "governance" / "erasures").glob("*.json")
    failed = json.loads(record.read_text())
    assert failed["failed"] == "events: RuntimeError" and failed["proof"] is None
    assert failed["lake"]["key_destroyed"] is True
    assert ALICE["customer_id"] not in record.read_text()  # not even from the error message
    entry = next(open_trail(world).entries(action="erasure"))
    assert json.loads(entry.details)["failed"] == "events: RuntimeError"
    again = erase(world, ALICE["customer_id"])
    assert again.ok and again.already_erased and not again.key_destroyed
    assert again.counts()["events"] == 3 and again.counts()["warehouse"] == 0
