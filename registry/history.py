"""Append-only alias history, in the MLflow backend database (SQLite or Postgres).

MLflow keeps only where an alias points now; this table keeps every move: when, who, which
alias, from which version to which, and why. Rows are only ever inserted.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from functools import lru_cache

import sqlalchemy as sa

from core.trail.actor import current_actor

TABLE = "voiceops_alias_history"
METADATA = sa.MetaData()
history_table = sa.Table(
    TABLE,
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("model", sa.String(256), nullable=False, index=True),
    sa.Column("alias", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),  # promote | rollback | challenger | ...
    sa.Column("from_version", sa.String(32), nullable=True),
    sa.Column("to_version", sa.String(32), nullable=True),
    sa.Column("user", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, default=""),
)


@dataclass(frozen=True)
class AliasMove:
    """One row of the history."""

    at: float
    model: str
    alias: str
    action: str
    from_version: str | None
    to_version: str | None
    user: str
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


def current_user() -> str:
    """Who is acting, as the trail names them: ``VOICEOPS_ACTOR``, ``VOICEOPS_USER``, else
    the login name."""
    return current_actor()


@lru_cache(maxsize=8)
def store_engine(url: str) -> sa.Engine:
    engine = sa.create_engine(url, pool_pre_ping=True)
    METADATA.create_all(engine, checkfirst=True)
    return engine


class AliasHistory:
    """The history table of one backend database (``sqlite:///...`` or ``postgresql://...``)."""

    def __init__(self, url: str):
        self.engine = store_engine(url)

    def append(self, move: AliasMove) -> None:
        with self.engine.begin() as connection:
            connection.execute(history_table.insert().values(**move.to_dict()))

    def record(
        self, model: str, alias: str, action: str, old: str | None, new: str | None, reason: str
    ) -> AliasMove:
        """Append a move made now by the current user."""
        move = AliasMove(time.time(), model, alias, action, old, new, current_user(), reason)
        self.append(move)
        return move

    def moves(self, model: str) -> list[AliasMove]:
        """Every move of ``model``'s aliases, oldest first."""
        query = (
            sa.select(history_table)
            .where(history_table.c.model == model)
            .order_by(history_table.c.id)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [AliasMove(**{k: v for k, v in row.items() if k != "id"}) for row in rows]
