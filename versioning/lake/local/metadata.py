"""The SQLite catalog of one repository: refs, commits, staging, tree nodes, object registry.

SQLite (WAL mode) gives the lake its ACID guarantees: every change of refs and staging is
one transaction, writers are serialised by ``BEGIN IMMEDIATE`` (a second writer waits up to
the lock timeout, then fails cleanly), and a process killed at any instant leaves either
the old or the new state.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from versioning.lake.errors import LockTimeoutError

SCHEMA_VERSION = "1"
#: How much of the catalog file reads may map into memory (address space, not memory used).
MMAP_BYTES = 256 << 20

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS commits (
    id TEXT PRIMARY KEY,
    tree TEXT NOT NULL,
    parents TEXT NOT NULL,
    message TEXT NOT NULL,
    committer TEXT NOT NULL,
    created REAL NOT NULL,
    metadata TEXT NOT NULL,
    generation INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS branches (
    name TEXT PRIMARY KEY, head TEXT NOT NULL, created REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tags (
    name TEXT PRIMARY KEY, commit_id TEXT NOT NULL, created REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS staging (
    branch TEXT NOT NULL,
    path TEXT NOT NULL,
    checksum TEXT,              -- NULL marks a deletion
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    content_type TEXT NOT NULL,
    metadata TEXT NOT NULL,
    PRIMARY KEY (branch, path)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS branch_protection (
    pattern TEXT PRIMARY KEY, created REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS nodes (id TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS objects (
    checksum TEXT PRIMARY KEY, size INTEGER NOT NULL, created REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gone (
    checksum TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    deleted REAL NOT NULL,
    retention_days REAL NOT NULL,
    state TEXT NOT NULL         -- 'pending' until the file is unlinked, then 'deleted'
) WITHOUT ROWID;
"""


class Catalog:
    """Thread-local SQLite connections to one repository's ``catalog.sqlite3``."""

    def __init__(self, path: Path, *, fsync: bool = True, lock_timeout_s: float = 60.0):
        self.path = path
        self.fsync = fsync
        self.lock_timeout_s = lock_timeout_s
        self._local = threading.local()

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                timeout=self.lock_timeout_s,
                check_same_thread=False,
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={'FULL' if self.fsync else 'NORMAL'}")
            conn.execute(f"PRAGMA busy_timeout={int(self.lock_timeout_s * 1000)}")
            conn.execute("PRAGMA cache_size=-65536")  # 64 MiB: tree nodes of large repos
            # Reads through a memory map: a commit reads its tree nodes (~15 KB each, spread
            # over overflow pages) without a system call per page. Writes still go through
            # the WAL as before.
            conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
            self._local.conn = conn
            self._local.depth = 0
        return conn

    def create_schema(self) -> None:
        conn = self.connection()
        conn.executescript(SCHEMA)
        conn.execute(
            "INSERT OR IGNORE INTO settings VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
        )

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """An exclusive write transaction (nested calls join the outer one)."""
        yield from self._transaction("BEGIN IMMEDIATE")

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several reads."""
        yield from self._transaction("BEGIN")

    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        conn = self.connection()
        if self._local.depth:
            self._local.depth += 1
            try:
                yield conn
            finally:
                self._local.depth -= 1
            return
        started = time.monotonic()
        try:
            conn.execute(begin)
        except sqlite3.OperationalError as err:
            if "locked" in str(err) or "busy" in str(err):
                waited = time.monotonic() - started
                raise LockTimeoutError(
                    f"repository {self.path.parent.name} is locked by another writer "
                    f"(waited {waited:.0f}s)"
                ) from err
            raise
        self._local.depth = 1
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
        finally:
            self._local.depth = 0

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
