"""One small interface over the two warehouse engines: DuckDB (embedded) and Postgres.

``connect()`` picks the engine from settings (``DBT_TARGET``), the same switch dbt uses, so
the loader and dbt always see the same database. SQL passed to ``execute``/``fetchall`` is
kept portable: ``?`` placeholders (rewritten to ``%s`` for psycopg2), quoted identifiers,
types both engines know (TEXT, BIGINT, DOUBLE PRECISION, TIMESTAMP WITH TIME ZONE).
"""

from __future__ import annotations

import contextlib
import io
import os
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from core.errors import VoiceOpsError
from core.settings import Settings, get_settings

Params = Sequence[Any]


class WarehouseError(VoiceOpsError):
    """The warehouse cannot be reached or created; ``str(err)`` says which and why."""


def quote(identifier: str) -> str:
    """A quoted SQL identifier (both engines use the standard double quotes)."""
    return '"' + identifier.replace('"', '""') + '"'


def qualified(schema: str, table: str) -> str:
    return f"{quote(schema)}.{quote(table)}"


class Warehouse(ABC):
    """A connection to the warehouse; use it as a context manager or call ``close()``."""

    #: "duckdb" or "postgres"
    engine: str = ""

    def __init__(self) -> None:
        self._depth = 0

    @staticmethod
    def from_settings(settings: Settings | None = None) -> Warehouse:
        """Same as ``connect()``."""
        return connect(settings)

    # ---- plain SQL ----------------------------------------------------------------------
    @abstractmethod
    def execute(self, sql: str, params: Params = ()) -> None: ...

    @abstractmethod
    def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...

    @abstractmethod
    def fetchall(self, sql: str, params: Params = ()) -> list[tuple]: ...

    def fetchone(self, sql: str, params: Params = ()) -> tuple | None:
        rows = self.fetchall(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Params = ()) -> Any:
        row = self.fetchone(sql, params)
        return None if row is None else row[0]

    # ---- transactions -------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Warehouse]:
        """All statements inside commit together or not at all (nested blocks join)."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self.execute("BEGIN TRANSACTION")
        self._depth = 1
        try:
            yield self
        except BaseException:
            with contextlib.suppress(Exception):
                self.execute("ROLLBACK")
            raise
        else:
            self.execute("COMMIT")
        finally:
            self._depth = 0

    def lock(self, key: str) -> None:  # noqa: B027 - a no-op unless the engine needs it
        """Serialize writers of ``key`` until the current transaction ends (Postgres only:
        a DuckDB file has one writing process anyway)."""

    # ---- schemas and tables -------------------------------------------------------------
    def create_schema(self, schema: str) -> None:
        self.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")

    def drop_schema(self, schema: str) -> None:
        self.execute(f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE")

    def schema_exists(self, schema: str) -> bool:
        return bool(
            self.fetchall(
                "SELECT 1 FROM information_schema.schemata WHERE schema_name = ?", (schema,)
            )
        )

    def list_schemas(self, like: str = "%") -> list[str]:
        rows = self.fetchall(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE ? "
            "ORDER BY schema_name",
            (like,),
        )
        return [r[0] for r in rows]

    def table_exists(self, schema: str, table: str) -> bool:
        return bool(
            self.fetchall(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                (schema, table),
            )
        )

    def columns(self, schema: str, table: str) -> list[str]:
        """Column names of a table in their order (empty when the table does not exist)."""
        rows = self.fetchall(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
            "AND table_name = ? ORDER BY ordinal_position",
            (schema, table),
        )
        return [r[0] for r in rows]

    def count(self, schema: str, table: str) -> int:
        return int(self.scalar(f"SELECT count(*) FROM {qualified(schema, table)}"))

    # ---- bulk load ----------------------------------------------------------------------
    @abstractmethod
    def insert_arrow(self, schema: str, table: str, data: pa.Table) -> int:
        """Append an Arrow table to an existing table, matching columns by name."""

    # ---- lifecycle ----------------------------------------------------------------------
    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    @abstractmethod
    def description(self) -> str:
        """Where the warehouse lives, for messages (never includes a password)."""

    def __repr__(self) -> str:
        return f"<Warehouse {self.description}>"


class DuckDBWarehouse(Warehouse):
    """A DuckDB file (``:memory:`` for an in-process scratch warehouse)."""

    engine = "duckdb"

    def __init__(self, path: str | os.PathLike[str] = ":memory:"):
        import duckdb

        super().__init__()
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = duckdb.connect(self.path)
        except duckdb.Error as err:
            raise WarehouseError(f"cannot open DuckDB warehouse {self.path}: {err}") from err

    @property
    def description(self) -> str:
        return f"duckdb:{self.path}"

    def execute(self, sql: str, params: Params = ()) -> None:
        self._conn.execute(sql, list(params) if params else None)

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        rows = [list(r) for r in rows]
        if rows:
            self._conn.executemany(sql, rows)

    def fetchall(self, sql: str, params: Params = ()) -> list[tuple]:
        return self._conn.execute(sql, list(params) if params else None).fetchall()

    def insert_arrow(self, schema: str, table: str, data: pa.Table) -> int:
        if data.num_rows == 0:
            return 0
        view = f"_voiceops_insert_{uuid.uuid4().hex}"
        cols = ", ".join(quote(c) for c in data.column_names)
        self._conn.register(view, data)
        try:
            self._conn.execute(
                f"INSERT INTO {qualified(schema, table)} ({cols}) SELECT {cols} FROM {quote(view)}"
            )
        finally:
            self._conn.unregister(view)
        return data.num_rows

    def close(self) -> None:
        self._conn.close()


def _pg_placeholders(sql: str) -> str:
    """``?`` -> ``%s`` and ``%`` -> ``%%`` outside quoted strings and identifiers."""
    out: list[str] = []
    quote_char: str | None = None
    for ch in sql:
        if quote_char:
            if ch == quote_char:
                quote_char = None
            out.append("%%" if ch == "%" else ch)
        elif ch in "'\"":
            quote_char = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


class PostgresWarehouse(Warehouse):
    """A Postgres database (created when missing); statements autocommit outside
    ``transaction()`` blocks."""

    engine = "postgres"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 5432,
        user: str = "postgres",
        password: str = "",
        database: str = "voiceops",
        connect_timeout: int = 10,
    ):
        super().__init__()
        self.host, self.port, self.user, self.database = host, port, user, database
        self._kwargs = {
            "host": host,
            "port": port,
            "user": user,
            "password": password or None,
            "connect_timeout": connect_timeout,
            "application_name": "voiceops-warehouse",
            "client_encoding": "utf8",
        }
        self._conn = self._connect_creating()
        self._conn.autocommit = True

    @property
    def description(self) -> str:
        return f"postgres://{self.user}@{self.host}:{self.port}/{self.database}"

    def _connect_creating(self):
        import psycopg2

        try:
            return psycopg2.connect(dbname=self.database, **self._kwargs)
        except psycopg2.OperationalError as err:
            if "does not exist" not in str(err):
                raise WarehouseError(
                    f"cannot connect to {self.description}: {str(err).strip()}"
                ) from err
        self._create_database()
        try:
            return psycopg2.connect(dbname=self.database, **self._kwargs)
        except psycopg2.OperationalError as err:
            raise WarehouseError(
                f"cannot connect to {self.description}: {str(err).strip()}"
            ) from err

    def _create_database(self) -> None:
        import psycopg2
        from psycopg2 import errors

        try:
            admin = psycopg2.connect(dbname="postgres", **self._kwargs)
        except psycopg2.OperationalError as err:
            raise WarehouseError(
                f"database {self.database} is missing and cannot be created: cannot connect "
                f"to postgres://{self.user}@{self.host}:{self.port}/postgres: {str(err).strip()}"
            ) from err
        try:
            admin.autocommit = True
            with admin.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,))
                if cur.fetchone() is None:
                    with contextlib.suppress(errors.DuplicateDatabase, errors.UniqueViolation):
                        cur.execute(f"CREATE DATABASE {quote(self.database)}")
        except psycopg2.Error as err:
            raise WarehouseError(
                f"cannot create database {self.database} on {self.host}:{self.port}: "
                f"{str(err).strip()}"
            ) from err
        finally:
            admin.close()

    def execute(self, sql: str, params: Params = ()) -> None:
        with self._conn.cursor() as cur:
            if params:
                cur.execute(_pg_placeholders(sql), tuple(params))
            else:
                cur.execute(sql)

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        rows = [tuple(r) for r in rows]
        if rows:
            with self._conn.cursor() as cur:
                cur.executemany(_pg_placeholders(sql), rows)

    def fetchall(self, sql: str, params: Params = ()) -> list[tuple]:
        with self._conn.cursor() as cur:
            if params:
                cur.execute(_pg_placeholders(sql), tuple(params))
            else:
                cur.execute(sql)
            return cur.fetchall() if cur.description else []

    def lock(self, key: str) -> None:
        if self._depth:
            self.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (key,))

    def insert_arrow(self, schema: str, table: str, data: pa.Table) -> int:
        if data.num_rows == 0:
            return 0
        buffer = io.BytesIO()
        # every non-null value quoted, nulls as bare empty fields: Postgres CSV then tells
        # NULL from the empty string
        options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
        pacsv.write_csv(data, buffer, options)
        buffer.seek(0)
        cols = ", ".join(quote(c) for c in data.column_names)
        with self._conn.cursor() as cur:
            cur.copy_expert(
                f"COPY {qualified(schema, table)} ({cols}) FROM STDIN WITH (FORMAT csv)", buffer
            )
        return data.num_rows

    def close(self) -> None:
        self._conn.close()


def connect(settings: Settings | None = None) -> Warehouse:
    """The warehouse of ``settings.dbt_target``: the DuckDB file or the Postgres database."""
    settings = settings or get_settings()
    if settings.dbt_target == "postgres":
        return PostgresWarehouse(
            host=settings.pg_host,
            port=settings.pg_port,
            user=settings.pg_user,
            password=settings.pg_password.get_secret_value(),
            database=settings.pg_database,
        )
    return DuckDBWarehouse(settings.warehouse_path)
