"""Failed pipeline runs, kept where monitoring reads them (not only in Dagster's run storage).

One row per failed run: when, which job, the run id, the failed step and its message, and
the run's tags (lake commit, families, experiment). SQLite under
``<home>/monitoring/run_failures.sqlite3`` by default, the Postgres of ``events_url`` when it
is one, so a metrics exporter or an alert query reads every failure from one table.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa

from core.settings import Settings

METADATA = sa.MetaData()
failures_table = sa.Table(
    "voiceops_run_failures",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("job", sa.String(256), nullable=False, index=True),
    sa.Column("run_id", sa.String(64), nullable=False, unique=True),
    sa.Column("step", sa.String(256), nullable=False, default=""),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("tags", sa.Text, nullable=False, default="{}"),
)


@dataclass(frozen=True)
class RunFailure:
    job: str
    run_id: str
    step: str = ""
    message: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    at: float = 0.0


def failure_log_url(settings: Settings) -> str:
    """Postgres when ``events_url`` is one, else SQLite under the home."""
    if str(settings.events_url).startswith("postgresql://"):
        return str(settings.events_url)
    path = Path(settings.home) / "monitoring" / "run_failures.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


@lru_cache(maxsize=8)
def _engine(url: str) -> sa.Engine:
    engine = sa.create_engine(url, pool_pre_ping=True)
    METADATA.create_all(engine, checkfirst=True)
    return engine


class FailureLog:
    """The failed runs of one database."""

    def __init__(self, settings: Settings) -> None:
        self.engine = _engine(failure_log_url(settings))

    def record(self, failure: RunFailure) -> bool:
        """Keep ``failure`` (a run is kept once: False when it already was)."""
        row = {
            "at": failure.at or time.time(),
            "job": failure.job,
            "run_id": failure.run_id,
            "step": failure.step,
            "message": failure.message,
            "tags": json.dumps(failure.tags, sort_keys=True),
        }
        with self.engine.begin() as connection:
            seen = connection.execute(
                sa.select(failures_table.c.id).where(failures_table.c.run_id == failure.run_id)
            ).first()
            if seen:
                return False
            connection.execute(failures_table.insert().values(**row))
        return True

    def failures(self, job: str | None = None) -> list[RunFailure]:
        """Recorded failures (of ``job``), oldest first."""
        query = sa.select(failures_table).order_by(failures_table.c.id)
        if job is not None:
            query = query.where(failures_table.c.job == job)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            RunFailure(r.job, r.run_id, r.step, r.message, json.loads(r.tags), r.at) for r in rows
        ]
