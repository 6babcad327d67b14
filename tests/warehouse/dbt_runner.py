"""Running the dbt project in-process on DuckDB or Postgres, for the warehouse tests.

:class:`Dbt` invokes dbt with its own target and log directories (never the repo's);
:class:`Target` is one warehouse (a DuckDB file, or fresh schemas in Postgres's ``test``
database) with a ``Dbt`` pointed at it; :func:`create_raw_tables` makes the tables the load
step creates (``warehouse.load``), empty.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from core.settings import scoped_environ
from warehouse.load import BOOKKEEPING, TABLES

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "dbt_project"


class Dbt:
    """Runs dbt in-process against one target with its own target/log directories."""

    def __init__(
        self, target: str, env: dict[str, str], work: Path, project: Path = PROJECT
    ) -> None:
        self.target, self.env, self.work = target, {"DO_NOT_TRACK": "1", **env}, work
        self.project = project

    @property
    def target_path(self) -> Path:
        return self.work / "target"

    def __call__(self, *args: str, vars: dict[str, Any] | None = None) -> Any:
        from dbt.cli.main import dbtRunner

        argv = [
            *args,
            "--project-dir",
            str(self.project),
            "--profiles-dir",
            str(self.project),
            "--target",
            self.target,
            "--target-path",
            str(self.target_path),
            "--log-path",
            str(self.work / "logs"),
            "--quiet",
        ]
        if vars:
            argv += ["--vars", json.dumps(vars)]
        with scoped_environ(self.env):
            return dbtRunner().invoke(argv)


def postgres_connection() -> Any:
    """A connection to Postgres's ``test`` database, or the test is skipped."""
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        return psycopg2.connect(
            host=os.environ.get("VOICEOPS_PG_HOST", "127.0.0.1"),
            port=int(os.environ.get("VOICEOPS_PG_PORT", "5432")),
            user=os.environ.get("VOICEOPS_PG_USER", "postgres"),
            password=os.environ.get("VOICEOPS_PG_PASSWORD", ""),
            dbname="test",
            connect_timeout=3,
        )
    except psycopg2.OperationalError as exc:
        pytest.skip(f"Postgres is not reachable: {exc}")


class Target:
    """One warehouse for dbt: ``schema`` is dbt's schema, raw tables live in ``<schema>_raw``."""

    def __init__(self, adapter: str, schema: str, dbt: Dbt, connect: Any) -> None:
        self.adapter, self.schema, self.dbt, self._connect = adapter, schema, dbt, connect

    @property
    def raw(self) -> str:
        return f"{self.schema}_raw"

    def execute(self, sql: str, rows: Sequence[Sequence[Any]] = ()) -> None:
        """Run ``sql`` (once, or once per row of ``rows`` with ``?`` placeholders)."""
        if self.adapter == "postgres":
            sql = sql.replace("?", "%s")
        with self._connect() as connection:
            cursor = connection.cursor()
            if rows:
                cursor.executemany(sql, rows)
            else:
                cursor.execute(sql)


@contextmanager
def warehouse_target(adapter: str, work: Path) -> Iterator[Target]:
    """A :class:`Target` on ``adapter`` (``duckdb`` or ``postgres``), dropped afterwards."""
    if adapter == "duckdb":
        duckdb = pytest.importorskip("duckdb")
        database = work / "warehouse.duckdb"
        env = {"VOICEOPS_DUCKDB_PATH": str(database), "VOICEOPS_DBT_SCHEMA": "main"}
        # one connection per statement: dbt needs the file to itself while it runs
        connect = lambda: duckdb.connect(str(database))  # noqa: E731
        yield Target("duckdb", "main", Dbt("duckdb", env, work), connect)
        return
    connection = postgres_connection()
    connection.autocommit = True
    schema = f"dbt_{uuid.uuid4().hex[:10]}"
    env = {
        "VOICEOPS_PG_HOST": os.environ.get("VOICEOPS_PG_HOST", "127.0.0.1"),
        "VOICEOPS_PG_DATABASE": "test",
        "VOICEOPS_DBT_SCHEMA": schema,
    }

    @contextmanager
    def connect() -> Iterator[Any]:
        yield connection

    try:
        yield Target("postgres", schema, Dbt("postgres", env, work), connect)
    finally:
        cursor = connection.cursor()
        cursor.execute("select nspname from pg_namespace where nspname like %s", (f"{schema}%",))
        for (name,) in cursor.fetchall():
            cursor.execute(f'drop schema "{name}" cascade')
        connection.close()


def create_raw_tables(target: Target) -> None:
    """The raw schema as the load step creates it: its data and bookkeeping tables, empty."""
    target.execute(f'create schema if not exists "{target.raw}"')
    for table, columns in TABLES.items():
        body = ", ".join(f'"{name}" {kind}' for name, kind in columns)
        target.execute(f'create table "{target.raw}"."{table}" ({body})')
    for table, ddl in BOOKKEEPING.items():
        target.execute(f'create table "{target.raw}"."{table}" ({ddl})')
