"""The trail's table (SQLite by default, Postgres in production) and its one writer.

Appends never fork the chain: each runs in a transaction that first takes the database's
write lock (``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock on Postgres),
reads the last entry and inserts the next; ``seq`` is the primary key and ``prev_hash`` is
unique, so even a writer that skipped the lock could not add a second successor.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa

from core.settings import Settings
from core.trail.anchor import Anchor
from core.trail.entry import GENESIS, Entry

TABLE = "voiceops_trail"
#: Postgres advisory lock id of the trail's appenders (any constant shared by all of them).
PG_LOCK_ID = 0x766F7472  # "votr"
METADATA = sa.MetaData()
trail_table = sa.Table(
    TABLE,
    METADATA,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(256), nullable=False),
    sa.Column("action", sa.String(64), nullable=False, index=True),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
)


def _sqlite_engine(url: str) -> sa.Engine:
    path = sa.engine.make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 60})

    @sa.event.listens_for(engine, "connect")
    def _connect(connection, _record) -> None:  # type: ignore[no-untyped-def]
        connection.isolation_level = None  # SQLAlchemy's "begin" below opens transactions
        connection.execute("PRAGMA journal_mode=WAL")

    @sa.event.listens_for(engine, "begin")
    def _begin(connection) -> None:  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, before the read

    return engine


@lru_cache(maxsize=8)
def trail_engine(url: str) -> sa.Engine:
    """The engine of ``url`` (one per process and URL)."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return sa.create_engine(url, pool_pre_ping=True)


def create_table(engine: sa.Engine) -> None:
    """Create the table if it is missing (every open: it also proves the database answers)."""
    with engine.begin() as connection:
        _lock(connection)  # two processes creating the table at once would collide
        METADATA.create_all(connection, checkfirst=True)


def _lock(connection: sa.Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": PG_LOCK_ID})


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class Trail:
    """The trail of one database, its HMAC key (may be empty), its anchor file and the
    configured actor (empty: the OS user)."""

    def __init__(self, url: str, *, key: bytes = b"", anchor: Path, actor: str = ""):
        self.url = url
        self.key = key
        self.actor = actor
        self.anchor = Anchor(anchor)
        self.engine = trail_engine(url)
        create_table(self.engine)

    def append(self, actor: str, action: str, subject: str, details: str, at: str = "") -> Entry:
        """Chain one entry after the last (``details``: canonical JSON) and anchor it."""
        with self.anchor.locked():
            return self.append_locked(actor, action, subject, details, at)

    def append_locked(
        self, actor: str, action: str, subject: str, details: str, at: str = ""
    ) -> Entry:
        """:meth:`append` for a caller already holding ``self.anchor.locked()``."""
        with self.engine.begin() as connection:
            _lock(connection)
            last = connection.execute(
                sa.select(trail_table.c.seq, trail_table.c.hash)
                .order_by(trail_table.c.seq.desc())
                .limit(1)
            ).first()
            seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
            entry = Entry(seq, at or utc_now(), actor, action, subject, details, prev)
            entry = entry.sealed(self.key)
            connection.execute(trail_table.insert().values(**asdict(entry)))
        self.anchor.advance(entry.seq, entry.hash)
        return entry

    def entries(self, *, action: str | None = None, since: str | None = None) -> Iterator[Entry]:
        """Entries in ``seq`` order; ``action`` (exact, or a prefix ending in ``.``) and
        ``since`` (ISO time) narrow them."""
        query = sa.select(trail_table).order_by(trail_table.c.seq)
        if action:
            column = trail_table.c.action
            query = query.where(
                column.startswith(action) if action.endswith(".") else column == action
            )
        if since:
            query = query.where(trail_table.c.at >= since)
        with self.engine.connect() as connection:  # read all: a slow reader holds no lock
            rows = connection.execute(query).mappings().all()
        for row in rows:
            yield Entry(**row)


def open_trail(settings: Settings) -> Trail:
    """The platform's trail, as the settings configure it (the table created if missing)."""
    return Trail(
        settings.trail_location,
        key=settings.trail_key.get_secret_value().encode(),
        anchor=settings.trail_anchor_path,
        actor=settings.actor,
    )
