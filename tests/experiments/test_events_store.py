"""The event store: idempotent writes, typed reads, several writer processes at once (SQLite),
and the Postgres engine against the real server."""

from __future__ import annotations

import multiprocessing
import sqlite3
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.errors import InputError
from core.settings import Settings
from experiments.event_log import EventLog
from experiments.event_store import (
    EventStore,
    EventStoreError,
    PostgresEventStore,
    SQLiteEventStore,
)
from experiments.events import COLUMN_TYPES, COLUMNS, Event
from tests.postgres import throwaway_database

PER_WRITER = 2500
SHARED = 300


def turn(index: int, **fields: object) -> Event:
    defaults: dict[str, object] = {
        "user_id": f"user-{index % 7}",
        "session_id": f"call-{index % 11}",
        "turn_index": index,
        "experiment": "nlu-canary",
        "arm": "canary" if index % 2 else "control",
        "versions": {"nlu": str(1 + index % 2), "stt": "4"},
        "language": "ru",
        "input_kind": "audio",
        "intent": "block_card",
        "confidence": 0.8,
        "latency_ms": 120.0 + index,
        "stt_ms": 60.0,
        "nlu_ms": 5.0,
    }
    return Event(**(defaults | fields))  # type: ignore[arg-type]


def shared_events() -> list[Event]:
    """The same events (same ids) every writer process also writes: stored once."""
    return [turn(i, event_id=f"shared{i:026d}") for i in range(SHARED)]


def test_the_embedded_store_is_sqlite_under_home(tmp_path: Path) -> None:
    store = EventStore.from_settings(Settings(home=tmp_path))
    assert isinstance(store, SQLiteEventStore)
    assert store.path == tmp_path / "experiments" / "events.sqlite3"
    url = "postgresql://postgres:secret@127.0.0.1:5432/events"
    postgres = EventStore.from_settings(Settings(home=tmp_path, events_url=url))
    assert isinstance(postgres, PostgresEventStore) and "secret" not in repr(postgres)


def test_writes_are_idempotent_on_event_id(tmp_path: Path) -> None:
    store = SQLiteEventStore(tmp_path / "events.sqlite3")
    first = [turn(i) for i in range(10)]
    assert store.write(first) == 10
    assert store.write(first) == 0
    assert store.write([*first[:5], *(turn(i) for i in range(5))]) == 5
    assert store.count() == 15


def test_read_frame_has_the_schema_and_filters(tmp_path: Path) -> None:
    store = SQLiteEventStore(tmp_path / "events.sqlite3")
    old = datetime(2026, 1, 1, tzinfo=UTC)
    store.write(
        [
            turn(1, occurred_at=old.isoformat(timespec="microseconds"), error="nlu timeout"),
            turn(2, experiment=None, arm=None, transcript_empty=True, confidence=None),
            Event.outcome("user-1", "call-1", resolved=True, experiment="nlu-canary"),
        ]
    )
    frame = store.read_frame()
    assert list(frame.columns) == list(COLUMNS) and len(frame) == 3
    assert str(frame["occurred_at"].dtype) == "datetime64[ns, UTC]"
    assert str(frame["turn_index"].dtype) == "Int64"
    assert str(frame["handoff"].dtype) == "boolean" and str(frame["confidence"].dtype) == "float64"
    first = frame.iloc[0]  # oldest first
    assert first["error"] == "nlu timeout" and first["versions"] == '{"nlu": "2", "stt": "4"}'
    assert frame["resolved"].isna().sum() == 2 and frame["resolved"].dropna().tolist() == [True]
    assert len(store.read_frame(experiment="nlu-canary")) == 2
    assert len(store.read_frame(since=old + timedelta(days=1))) == 2
    assert len(store.read_frame(experiment="nlu-canary", since=old + timedelta(days=1))) == 1


def test_events_refuse_inconsistent_fields() -> None:
    with pytest.raises(InputError):
        Event(user_id="u", session_id="s", kind="turn", resolved=True)
    with pytest.raises(InputError):
        Event(user_id="u", session_id="s", kind="outcome")
    with pytest.raises(InputError):
        Event(user_id="u", session_id="s", input_kind="video")  # type: ignore[arg-type]
    event = turn(3)
    assert Event.from_json(event.to_json()) == event


def _writer(database: str, spool: str, worker: int) -> None:
    """One API worker: its own event log (small batches), plus the shared events directly."""
    store = SQLiteEventStore(Path(database))
    with EventLog(store, Path(spool), batch_size=100, flush_interval_s=0.01) as event_log:
        for i in range(PER_WRITER):
            event_log.record(turn(i, event_id=f"w{worker}-{i:06d}", user_id=f"user-{worker}"))
            if i % 500 == 0:
                SQLiteEventStore(Path(database)).write(shared_events())
        assert event_log.flush(60)
        assert event_log.stats().lost == 0


def _busy_at_once() -> sqlite3.OperationalError:
    err = sqlite3.OperationalError("database is locked")
    err.sqlite_errorcode = sqlite3.SQLITE_BUSY  # type: ignore[attr-defined]
    return err


def test_a_lock_reported_without_waiting_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite answers busy at once, without the busy timeout, while another connection cleans
    up the WAL files as it closes or recovers after a crash: the store retries, it does not
    fail the write (a writer process died of this in CI)."""
    store = SQLiteEventStore(tmp_path / "events.sqlite3", busy_timeout_ms=5_000)
    real_connect, failures = sqlite3.connect, [_busy_at_once(), _busy_at_once()]

    def connect(*args: object, **kwargs: object) -> sqlite3.Connection:
        if failures:
            raise failures.pop()
        return real_connect(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlite3, "connect", connect)
    assert store.write([turn(i) for i in range(5)]) == 5
    assert not failures and store.count() == 5


def test_a_lock_held_past_the_busy_timeout_fails_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SQLiteEventStore(tmp_path / "events.sqlite3", busy_timeout_ms=300)

    def connect(*args: object, **kwargs: object) -> sqlite3.Connection:
        raise _busy_at_once()

    monkeypatch.setattr(sqlite3, "connect", connect)
    with pytest.raises(EventStoreError, match="database is locked"):
        store.write([turn(1)])


def test_other_errors_are_not_retried(tmp_path: Path) -> None:
    (tmp_path / "events.sqlite3").write_text("not a database")
    with pytest.raises(EventStoreError, match="not a database"):
        SQLiteEventStore(tmp_path / "events.sqlite3").write([turn(1)])


@pytest.mark.parametrize("writers", [2, 4])
def test_concurrent_writer_processes_lose_and_duplicate_nothing(
    tmp_path: Path, writers: int
) -> None:
    database, spool = tmp_path / "events.sqlite3", tmp_path / "spool"
    spawn = multiprocessing.get_context("spawn")
    # one worker process per writer, all at once; a writer's exception comes back with its
    # traceback (.result() raises it here)
    with ProcessPoolExecutor(max_workers=writers, mp_context=spawn) as pool:
        futures = [pool.submit(_writer, str(database), str(spool), w) for w in range(writers)]
        for future in futures:
            future.result(timeout=180)
    frame = SQLiteEventStore(database).read_frame()
    assert len(frame) == writers * PER_WRITER + SHARED
    assert frame["event_id"].is_unique
    for w in range(writers):
        mine = frame[frame["event_id"].str.startswith(f"w{w}-")]
        assert set(mine["user_id"]) == {f"user-{w}"}
        assert sorted(mine["event_id"]) == [f"w{w}-{i:06d}" for i in range(PER_WRITER)]
    assert not list(spool.glob("*.jsonl"))


@pytest.fixture
def postgres_url() -> str:
    """A temporary database on the local Postgres, dropped afterwards."""
    with throwaway_database("voiceops_events_test") as url:
        yield url


def test_postgres_store(postgres_url: str, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, events_url=postgres_url)
    with EventStore.from_settings(settings) as store:
        events = [turn(i) for i in range(20)]
        assert store.write(events) == 20
        assert store.write([*events, turn(99)]) == 1
        assert store.count() == 21
        store.write([Event.outcome("user-1", "call-1", resolved=False)])
        frame = store.read_frame(experiment="nlu-canary")
        assert len(frame) == 21 and frame["event_id"].is_unique
        assert str(frame["resolved"].dtype) == "boolean" and frame["resolved"].isna().all()
        assert frame["confidence"].tolist() == [0.8] * 21
        assert store.read_frame()["resolved"].dropna().tolist() == [False]
    with EventLog(
        PostgresEventStore(postgres_url), tmp_path / "spool", flush_interval_s=0.01
    ) as event_log:
        for i in range(200):
            event_log.record(turn(i))
        assert event_log.flush(30)
    assert PostgresEventStore(postgres_url).count() == 222


#: The columns the first event schema had: a store made then lacks the later ones.
FIRST_SCHEMA_COLUMNS = COLUMNS[: COLUMNS.index("worker") + 1]
NEW_COLUMNS = ["audio_duration_s", "audio_sample_rate", "transcript_length"]


def _first_schema_table(types: dict[str, str]) -> str:
    columns = ", ".join(f"{name} {types[COLUMN_TYPES[name]]}" for name in FIRST_SCHEMA_COLUMNS)
    return f"CREATE TABLE turn_events ({columns}, PRIMARY KEY (event_id))"


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_a_store_made_by_an_older_version_gets_the_new_columns(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    old = turn(1)
    new = turn(2, audio_duration_s=1.5, audio_sample_rate=16000, transcript_length=9)
    old_row = old.to_row()[: len(FIRST_SCHEMA_COLUMNS)]
    insert = f"INSERT INTO turn_events VALUES ({', '.join('?' for _ in old_row)})"
    store: EventStore
    if engine == "sqlite":
        path = tmp_path / "events.sqlite3"
        with closing(sqlite3.connect(path)) as db, db:
            db.execute(_first_schema_table(SQLiteEventStore._TYPES))
            db.execute(insert, old_row)
        store = SQLiteEventStore(path)
    else:
        import psycopg2

        url = request.getfixturevalue("postgres_url")
        with closing(psycopg2.connect(url)) as db, db, db.cursor() as cursor:
            cursor.execute(_first_schema_table(PostgresEventStore._TYPES))
            cursor.execute(insert.replace("?", "%s"), old_row)
        store = PostgresEventStore(url)
    with store:
        assert store.write([new]) == 1
        frame = store.read_frame()
    assert list(frame.columns) == list(COLUMNS)
    frame = frame.set_index("event_id")
    assert frame.loc[old.event_id, NEW_COLUMNS].isna().all()  # written before: null
    assert frame.loc[new.event_id, NEW_COLUMNS].tolist() == [1.5, 16000, 9]
