"""What the trail costs: appending N entries one action at a time (each its own locked
transaction plus the anchor file), against a plain insert of the same rows one transaction
each (the baseline), and verifying N entries; SQLite and, when it answers, Postgres; with and
without the HMAC key.

    python -m bench.trail [--entries 10000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from core.trail import Trail, check, record
from core.trail.store import trail_table

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _plain_inserts(url: str, count: int) -> float:
    """The baseline: the same table, one insert per transaction, no lock, no chain, no anchor."""
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    table = trail_table.to_metadata(metadata, name="plain_rows")
    metadata.create_all(engine)
    start = time.perf_counter()
    for seq in range(1, count + 1):
        with engine.begin() as connection:
            connection.execute(
                table.insert().values(
                    seq=seq,
                    at="2026-12-06T00:00:00.000000Z",
                    actor="bench",
                    action="publish",
                    subject=f"lakefs://contact-center/ingest-{seq}",
                    details=f'{{"index":{seq}}}',
                    prev_hash=uuid.uuid4().hex,
                    hash=uuid.uuid4().hex,
                )
            )
    engine.dispose()
    return time.perf_counter() - start


def _measure(url: str, root: Path, count: int, key: bytes) -> tuple[float, float, float]:
    """(chained append seconds, plain insert seconds, verify seconds) for ``count`` entries."""
    trail = Trail(url, key=key, anchor=root / "anchor.json", actor="bench")
    start = time.perf_counter()
    for index in range(count):
        record(trail, "publish", f"lakefs://contact-center/ingest-{index}", {"index": index})
    appended = time.perf_counter() - start
    plain = _plain_inserts(url, count)
    start = time.perf_counter()
    entries, problem = check(trail)
    verified = time.perf_counter() - start
    assert entries == count and problem is None, problem
    return appended, plain, verified


def _postgres_database() -> str | None:
    name = f"bench_trail_{uuid.uuid4().hex[:8]}"
    try:
        engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError:
        return None
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def _drop(url: str) -> None:
    from core.trail.store import trail_engine

    trail_engine(url).dispose()
    engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(
            sa.text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    rows = []
    for key in (b"", b"bench-key"):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            rows.append(
                ("sqlite", key, _measure(f"sqlite:///{root / 't.db'}", root, args.entries, key))
            )
        url = None if args.no_postgres else _postgres_database()
        if url:
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    rows.append(("postgres", key, _measure(url, Path(tmp), args.entries, key)))
                finally:
                    _drop(url)
    print(f"trail, {args.entries} entries, one action per transaction")
    header = ("append s", "ms/entry", "plain s", "ratio", "verify s")
    print(f"{'store':9} {'key':5} " + " ".join(f"{name:>9}" for name in header))
    for store, key, (appended, plain, verified) in rows:
        figures = (appended, 1000 * appended / args.entries, plain, appended / plain, verified)
        print(f"{store:9} {'hmac' if key else 'none':5} " + " ".join(f"{x:9.3f}" for x in figures))


if __name__ == "__main__":
    main()
