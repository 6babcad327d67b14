"""Helpers of the trail tests: a trail in a temporary directory and raw access to its rows."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from core.trail import Trail, record
from core.trail.store import trail_table


def make_trail(tmp_path: Path, *, key: bytes = b"", url: str = "") -> Trail:
    url = url or f"sqlite:///{tmp_path / 'trail.sqlite3'}"
    return Trail(url, key=key, anchor=tmp_path / "anchor.json", actor="tester")


def fill(trail: Trail, count: int = 5) -> None:
    """``count`` publishes and promotions, as the platform writes them."""
    for index in range(count):
        action = "publish" if index % 2 == 0 else "promote"
        record(trail, action, f"subject-{index}", {"index": index})


def execute(trail: Trail, statement: sa.Executable) -> None:
    """Run ``statement`` on the trail's database, as an attacker with write access would."""
    with trail.engine.begin() as connection:
        connection.execute(statement)


def row(trail: Trail, seq: int) -> dict:
    with trail.engine.connect() as connection:
        found = connection.execute(sa.select(trail_table).where(trail_table.c.seq == seq))
        return dict(found.mappings().one())


def append_many(url: str, anchor: str, count: int) -> None:
    """A worker process: ``count`` appends to the trail at ``url``."""
    trail = Trail(url, anchor=Path(anchor), actor="worker")
    for index in range(count):
        record(trail, "experiment.decision", "experiment:concurrent", {"index": index})
