"""A throwaway Postgres database for tests on the machine's server (skipped when it is down)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

PG = {
    "host": os.environ.get("VOICEOPS_PG_HOST", "127.0.0.1"),
    "port": int(os.environ.get("VOICEOPS_PG_PORT", "5432")),
    "user": os.environ.get("VOICEOPS_PG_USER", "postgres"),
}


@contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """The URL of a new database ``<prefix>_<random>``, dropped (forcibly) on exit."""
    psycopg2 = pytest.importorskip("psycopg2")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg2.connect(dbname="postgres", connect_timeout=3, **PG)
    except psycopg2.OperationalError as error:
        pytest.skip(f"Postgres is not reachable: {error}")
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{name}"
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
