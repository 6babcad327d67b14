"""What ``voiceops privacy erase`` costs as the lake grows, and what it costs the lake.

A local lake of N commits (each: one sealed 200-row calls part over 20 customers, 5 sealed
recordings; a tag every 10 commits), a warehouse table of the same rows and 1,000 events;
one customer is erased. Printed per size: the erasure's phases (search before, lake scan,
key destruction, warehouse deletes, proof search), the ratio of each to the first size (the
baseline run in the same command), and the lake's cost: objects rewritten, keys destroyed,
bytes of the object store changed.

    python -m bench.erasure [--commits 20 200]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from core.pseudonym import customer_key, pseudonym_key
from core.sealing import Sealer, SubjectKeyStore
from core.settings import Settings
from experiments.event_store import EventStore
from experiments.events import Event
from governance.erasure import erase
from ingestion import schemas
from ingestion.simulator.layout import CALL_FIELDS
from versioning.lake import open_lake
from warehouse.connection import connect

ROWS, CUSTOMERS, RECORDINGS, EVENTS = 200, 20, 5, 1000
ERASED = "CUST-001000"
PHASES = ("search_before", "lake_scan", "key_destruction", "warehouse", "proof")


def _customer(n: int) -> str:
    return f"CUST-0010{n % CUSTOMERS:02d}"


def _rows(day: int) -> list[dict]:
    fixed = {"duration_s": 1.0, "sample_rate": 8000, "transcript": "my number is 07700 900123"}
    return [
        dict.fromkeys(CALL_FIELDS, "")
        | fixed
        | {"call_id": f"C{day}-{n}", "customer_id": _customer(n)}
        for n in range(ROWS)
    ]


def _world(commits: int) -> Settings:
    home = Path(tempfile.mkdtemp(prefix="bench-erasure-")) / "home"
    settings = Settings(home=home, lake_fsync=False)
    sealer = Sealer.from_settings(settings)
    lake, repository = open_lake(settings), settings.lake_repository
    lake.create_repository(repository)
    key = pseudonym_key(settings)
    with connect(settings) as db:
        db.create_schema("published")
        db.execute("CREATE TABLE published.calls (call_id TEXT, customer_key TEXT, text TEXT)")
    for day in range(commits):
        rows = _rows(day)
        sealed = [sealer.seal_record(row) for row in rows]
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(sealed, schema=schemas.CALLS), buffer)
        part = f"raw/call_exports/calls/dt={day:04d}/part-0.parquet"
        lake.upload(repository, "main", part, buffer.getvalue())
        for n in range(RECORDINGS):
            wav = sealer.seal_blob(_customer(n), b"RIFF" * 100)
            lake.upload(repository, "main", f"raw/recordings/dt={day:04d}/C{day}-{n}.wav", wav)
        lake.commit(repository, "main", f"day {day}")
        if day % 10 == 0:
            lake.create_tag(repository, f"t{day}", "main")
        with connect(settings) as db:
            db.executemany(
                "INSERT INTO published.calls VALUES (?, ?, 'hello')",
                [(r["call_id"], customer_key(r["customer_id"], key)) for r in rows],
            )
    with EventStore.from_settings(settings) as store:
        store.write([Event(user_id=_customer(n), session_id="s") for n in range(EVENTS)])
    return settings


def _object_store(settings: Settings) -> dict[str, tuple[int, str]]:
    """Every file of the lake's object store: (bytes, sha256)."""
    root = settings.home / "lake" / settings.lake_repository / "objects"
    return {
        str(path): (path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest())
        for path in root.rglob("*")
        if path.is_file()
    }


def _refs_objects(settings: Settings) -> dict[tuple[str, str], str]:
    """(ref, path) -> checksum at every branch and tag."""
    lake, repository = open_lake(settings), settings.lake_repository
    refs = [b.id for b in lake.list_branches(repository)]
    refs += [t.id for t in lake.list_tags(repository)]
    return {
        (ref, item.path): item.checksum
        for ref in refs
        for item in lake.list_objects(repository, ref)
        if hasattr(item, "checksum")
    }


def measure(commits: int) -> dict[str, object]:
    """Phase seconds and lake cost of erasing one customer from a lake of ``commits``."""
    settings = _world(commits)
    files, objects = _object_store(settings), _refs_objects(settings)
    started = time.perf_counter()
    report = erase(settings, ERASED)
    total = time.perf_counter() - started
    files_after, objects_after = _object_store(settings), _refs_objects(settings)
    changed = {p for p in files.keys() | files_after.keys() if files.get(p) != files_after.get(p)}
    destroyed = SubjectKeyStore.from_settings(settings).counts()["destroyed_keys"]
    return {
        "commits": commits,
        "objects": commits * (1 + RECORDINGS),
        "seconds": {phase: report.seconds.get(phase, 0.0) for phase in PHASES} | {"total": total},
        "sealed_objects": len(report.lake.sealed),
        "warehouse_rows": report.counts()["warehouse"],
        "proof_total": report.proof_total,
        "lake_bytes": sum(size for size, _ in files.values()),
        "objects_rewritten": sum(objects.get(k) != objects_after.get(k) for k in objects_after),
        "keys_destroyed": destroyed,
        "bytes_changed": sum((files.get(p) or files_after[p])[0] for p in changed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, nargs="+", default=[20, 200])
    args = parser.parse_args()
    runs = [measure(commits) for commits in args.commits]
    base = runs[0]["seconds"]
    phases = " | ".join(f"{p} s (x base)" for p in (*PHASES, "total"))
    print(f"| commits | objects | {phases} |")
    print("|---:|---:|" + "---:|" * (len(PHASES) + 1))
    for run in runs:
        cells = [
            f"{run['seconds'][p]:.3f} ({run['seconds'][p] / max(base[p], 1e-9):.1f}x)"
            for p in (*PHASES, "total")
        ]
        print(f"| {run['commits']} | {run['objects']} | " + " | ".join(cells) + " |")
    print()
    print("| commits | sealed objects of the subject | warehouse rows deleted | proof found "
          "| lake bytes | objects rewritten | keys destroyed | lake bytes changed |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        print(
            f"| {run['commits']} | {run['sealed_objects']} | {run['warehouse_rows']} "
            f"| {run['proof_total']} | {run['lake_bytes']} | {run['objects_rewritten']} "
            f"| {run['keys_destroyed']} | {run['bytes_changed']} |"
        )


if __name__ == "__main__":
    main()
