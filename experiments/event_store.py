"""The experiment event store: SQLite by default, Postgres in production.

``VOICEOPS_EVENTS_URL`` chooses the engine (:meth:`EventStore.from_settings`): empty keeps the
events in ``$VOICEOPS_HOME/experiments/events.sqlite3``; ``postgresql://...`` in a Postgres
database (which must exist; the table is created). Not the warehouse's DuckDB file: a DuckDB
file has one writing process, and every API worker writes events.

SQLite runs in WAL mode with a busy timeout, so several processes append at once (readers never
block writers); one transaction per batch. SQLite reports some locks as busy at once, without
waiting (a connection cleaning up the WAL files as it closes, a recovery after a crash): those
operations are retried until the busy timeout has passed. Writes are idempotent on ``event_id``
(``INSERT ... ON CONFLICT (event_id) DO NOTHING``): a retried or replayed batch stores each event
once, and :meth:`EventStore.write` returns how many rows were new.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pandas as pd

from core.errors import VoiceOpsError
from core.settings import Settings, redact_url
from experiments.events import COLUMN_TYPES, COLUMNS, Event, utc_timestamp

TABLE = "turn_events"
#: How long a SQLite writer waits for another process's transaction before failing.
SQLITE_BUSY_TIMEOUT_MS = 10_000
_INDEX = f"CREATE INDEX IF NOT EXISTS {TABLE}_experiment ON {TABLE} (experiment, occurred_at)"
_PANDAS_DTYPES = {"text": "string", "int": "Int64", "real": "float64", "bool": "boolean"}
_T = TypeVar("_T")


def sqlite_busy(err: sqlite3.Error) -> bool:
    """Whether ``err`` is SQLite's "database is busy/locked" (another connection's lock)."""
    code = getattr(err, "sqlite_errorcode", None)
    if code is None:
        return "locked" in str(err) or "busy" in str(err)
    return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class EventStoreError(VoiceOpsError):
    """The event store cannot be reached or written; the message says which and why."""


def _ddl(types: dict[str, str]) -> str:
    columns = ", ".join(
        f"{name} {types[kind]}{' PRIMARY KEY' if name == 'event_id' else ''}"
        for name, kind in COLUMN_TYPES.items()
    )
    return f"CREATE TABLE IF NOT EXISTS {TABLE} ({columns})"


def add_missing_columns_ddl(types: dict[str, str], existing: Iterable[str]) -> list[str]:
    """``ALTER TABLE`` statements adding the schema's columns a table made by an older
    version lacks (its rows read them as null)."""
    present = {name.lower() for name in existing}
    return [
        f"ALTER TABLE {TABLE} ADD COLUMN {name} {types[kind]}"
        for name, kind in COLUMN_TYPES.items()
        if name not in present
    ]


def select_sql(where: str) -> str:
    """The events matching ``where`` (``?`` placeholders), oldest first."""
    return f"SELECT {', '.join(COLUMNS)} FROM {TABLE} {where}ORDER BY occurred_at, event_id"


def prune_where(before: datetime, keep_experiments: Sequence[str]) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause (``?`` placeholders) of events older than ``before`` outside
    ``keep_experiments``."""
    where = "WHERE occurred_at < ?"
    params: list[Any] = [utc_timestamp(before)]
    if keep_experiments:
        marks = ", ".join("?" for _ in keep_experiments)
        where += f" AND (experiment IS NULL OR experiment NOT IN ({marks}))"
        params.extend(keep_experiments)
    return where, params


def events_frame(rows: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """Rows in :data:`COLUMNS` order as a frame with the schema's dtypes (nullable ints and
    booleans, ``occurred_at`` as UTC timestamps)."""
    frame = pd.DataFrame.from_records(list(rows), columns=list(COLUMNS))
    for name, kind in COLUMN_TYPES.items():
        frame[name] = frame[name].astype(_PANDAS_DTYPES[kind])
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"].astype(object), utc=True)
    return frame


class EventStore(ABC):
    """Where experiment events are kept; safe to share between threads of one process."""

    description: str = ""

    @staticmethod
    def from_settings(settings: Settings) -> EventStore:
        """The store ``settings.events_url`` names (the embedded SQLite file when empty)."""
        url = settings.events_url
        if url.startswith(("postgresql://", "postgres://")):
            return PostgresEventStore(url)
        if url.startswith("sqlite:///"):
            return SQLiteEventStore(Path(url.removeprefix("sqlite:///")))
        if url:
            raise EventStoreError(
                f"VOICEOPS_EVENTS_URL={redact_url(url)}: expected postgresql://... or "
                "sqlite:///path (or empty for the embedded store)"
            )
        return SQLiteEventStore(Path(settings.events_location))

    @abstractmethod
    def write(self, events: Iterable[Event]) -> int:
        """Store ``events`` in one transaction; the number of rows that were not there yet.
        Raises :class:`EventStoreError` when nothing could be written (then nothing was)."""

    @abstractmethod
    def _select(self, where: str, params: list[Any]) -> list[tuple]: ...

    @abstractmethod
    def count(self) -> int:
        """Number of events stored."""

    @abstractmethod
    def _delete(self, where: str, params: list[Any], dry_run: bool) -> int: ...

    def prune(
        self, before: datetime, keep_experiments: Sequence[str] = (), *, dry_run: bool = False
    ) -> int:
        """Delete events older than ``before`` except those of ``keep_experiments`` (the
        retention policy); how many (would) go."""
        where, params = prune_where(before, keep_experiments)
        return self._delete(where, params, dry_run)

    def delete_users(self, user_ids: Sequence[str], *, dry_run: bool = False) -> int:
        """Delete every event whose ``user_id`` is one of ``user_ids`` (a data subject's
        erasure); how many (would) go."""
        if not user_ids:
            return 0
        marks = ", ".join("?" for _ in user_ids)
        return self._delete(f"WHERE user_id IN ({marks})", list(user_ids), dry_run)

    def count_of_users(self, user_ids: Sequence[str]) -> int:
        """Number of events whose ``user_id`` is one of ``user_ids`` (a data subject's)."""
        if not user_ids:
            return 0
        marks = ", ".join("?" for _ in user_ids)
        return len(self._select(f"WHERE user_id IN ({marks}) ", list(user_ids)))

    def read_frame(
        self, experiment: str | None = None, since: datetime | None = None
    ) -> pd.DataFrame:
        """Events (of one experiment, from ``since`` on) as a frame, oldest first."""
        clauses, params = [], []
        if experiment is not None:
            clauses.append("experiment = ?")
            params.append(experiment)
        if since is not None:
            clauses.append("occurred_at >= ?")
            params.append(utc_timestamp(since))
        where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        return events_frame(self._select(where, params))

    def close(self) -> None:  # noqa: B027 - nothing to release unless the engine holds some
        """Release connections."""

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"


class SQLiteEventStore(EventStore):
    """A SQLite file in WAL mode; one connection per thread, opened on first use."""

    _TYPES: ClassVar[dict[str, str]] = {
        "text": "TEXT",
        "int": "INTEGER",
        "real": "REAL",
        "bool": "INTEGER",
    }

    def __init__(self, path: Path, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS):
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self.description = f"sqlite:{self.path}"
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            return connection
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise EventStoreError(f"cannot open the event store {self.path}: {err}") from err
        connection = sqlite3.connect(
            self.path, timeout=self.busy_timeout_ms / 1000, isolation_level=None
        )
        self._local.connection = connection
        connection.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
        connection.execute("PRAGMA journal_mode = WAL")
        # WAL + NORMAL: a committed batch survives a process crash (not an OS crash)
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute(_ddl(self._TYPES))
        existing = [row[1] for row in connection.execute(f"PRAGMA table_info({TABLE})")]
        for statement in add_missing_columns_ddl(self._TYPES, existing):
            connection.execute(statement)
        connection.execute(_INDEX)
        return connection

    def _retrying(self, action: str, operation: Callable[[sqlite3.Connection], _T]) -> _T:
        """``operation`` on this thread's connection; a busy error SQLite raised without
        waiting is retried (on a new connection) until the busy timeout has passed. Any
        other error, or busy beyond the timeout, is an :class:`EventStoreError`."""
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        pause = 0.005
        while True:
            try:
                return operation(self._connection())
            except sqlite3.Error as err:
                self._reset()
                if not sqlite_busy(err) or time.monotonic() + pause > deadline:
                    raise EventStoreError(f"cannot {action} {self.path}: {err}") from err
                time.sleep(pause)
                pause = min(0.25, pause * 2)

    def _reset(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()

    def write(self, events: Iterable[Event]) -> int:
        rows = [event.to_row() for event in events]
        if not rows:
            return 0
        placeholders = ", ".join("?" for _ in COLUMNS)
        sql = (
            f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({placeholders}) "
            "ON CONFLICT (event_id) DO NOTHING"
        )

        def insert(connection: sqlite3.Connection) -> int:
            before = connection.total_changes
            # IMMEDIATE takes the write lock up front: waiting happens here, under busy_timeout,
            # not as a deadlock error halfway through the batch
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.executemany(sql, rows)
                connection.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
                raise
            return connection.total_changes - before

        return self._retrying("write events to", insert)

    def _select(self, where: str, params: list[Any]) -> list[tuple]:
        return self._retrying(
            "read events from", lambda c: c.execute(select_sql(where), params).fetchall()
        )

    def count(self) -> int:
        return self._retrying(
            "read events from",
            lambda c: int(c.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]),
        )

    def _delete(self, where: str, params: list[Any], dry_run: bool) -> int:
        verb = "SELECT count(*)" if dry_run else "DELETE"

        def delete(connection: sqlite3.Connection) -> int:
            cursor = connection.execute(f"{verb} FROM {TABLE} {where}", params)
            return int(cursor.fetchone()[0]) if dry_run else cursor.rowcount

        return self._retrying("delete events from", delete)

    def close(self) -> None:
        self._reset()


class PostgresEventStore(EventStore):
    """A Postgres database given by URL; one connection per thread, reopened after a failure."""

    _TYPES: ClassVar[dict[str, str]] = {
        "text": "TEXT",
        "int": "INTEGER",
        "real": "DOUBLE PRECISION",
        "bool": "BOOLEAN",
    }

    def __init__(self, url: str, *, connect_timeout_s: int = 5):
        self.url = url
        self.connect_timeout_s = connect_timeout_s
        self.description = redact_url(url)
        self._local = threading.local()

    def _connection(self) -> Any:
        import psycopg2

        connection = getattr(self._local, "connection", None)
        if connection is not None and not connection.closed:
            return connection
        try:
            connection = psycopg2.connect(
                self.url,
                connect_timeout=self.connect_timeout_s,
                application_name="voiceops-events",
            )
            with connection, connection.cursor() as cursor:
                cursor.execute(_ddl(self._TYPES))
                cursor.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND table_name = %s",
                    (TABLE,),
                )
                existing = [row[0] for row in cursor.fetchall()]
                for statement in add_missing_columns_ddl(self._TYPES, existing):
                    cursor.execute(statement)
                cursor.execute(_INDEX)
        except psycopg2.Error as err:
            raise EventStoreError(
                f"cannot open the event store {self.description}: {str(err).strip()}"
            ) from err
        self._local.connection = connection
        return connection

    def _reset(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None and not connection.closed:
            connection.close()

    def _run(self, action: str, work: Any) -> Any:
        import psycopg2

        connection = self._connection()
        try:
            with connection, connection.cursor() as cursor:  # one transaction
                return work(cursor)
        except psycopg2.Error as err:
            self._reset()
            raise EventStoreError(
                f"cannot {action} events in {self.description}: {str(err).strip()}"
            ) from err

    def write(self, events: Iterable[Event]) -> int:
        from psycopg2.extras import execute_values

        rows = [event.to_row() for event in events]
        if not rows:
            return 0
        sql = (
            f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES %s "
            "ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
        )
        inserted = self._run(
            "write", lambda cursor: execute_values(cursor, sql, rows, page_size=1000, fetch=True)
        )
        return len(inserted)

    def _select(self, where: str, params: list[Any]) -> list[tuple]:
        def select(cursor: Any) -> list[tuple]:
            cursor.execute(select_sql(where).replace("?", "%s"), params)
            return cursor.fetchall()

        return self._run("read", select)

    def count(self) -> int:
        def count(cursor: Any) -> int:
            cursor.execute(f"SELECT count(*) FROM {TABLE}")
            return int(cursor.fetchone()[0])

        return self._run("read", count)

    def _delete(self, where: str, params: list[Any], dry_run: bool) -> int:
        verb = "SELECT count(*)" if dry_run else "DELETE"

        def delete(cursor: Any) -> int:
            cursor.execute(f"{verb} FROM {TABLE} {where}".replace("?", "%s"), params)
            return int(cursor.fetchone()[0]) if dry_run else cursor.rowcount

        return self._run("delete", delete)

    def close(self) -> None:
        self._reset()
