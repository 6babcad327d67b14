"""The simulated callers count a request that got no answer and go on with the next turn."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path

from core.net import free_port
from serving.traffic import TrafficGenerator, TrafficPlan


def crm(root: Path, customers: int) -> Path:
    """A simulated CRM with ``customers`` customers (all the generator reads of it)."""
    (root / "crm").mkdir(parents=True)
    with closing(sqlite3.connect(root / "crm" / "crm.sqlite3")) as db, db:
        db.execute("CREATE TABLE customers (customer_id TEXT PRIMARY KEY)")
        db.executemany(
            "INSERT INTO customers VALUES (?)", [(f"c{i:03d}",) for i in range(customers)]
        )
    return root


def test_transport_errors_are_counted_and_every_turn_is_still_tried(tmp_path: Path) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens: every request is refused
    plan = TrafficPlan(users=3, turns=2, concurrency=2)
    report = TrafficGenerator(nobody, plan, crm(tmp_path, 9), date(2026, 1, 5)).run()
    assert report.transport_errors == {"ConnectError": 6}  # no batch cut short
    assert report.turns == report.calls == 0 and not report.errors
    summary = report.summary()
    assert summary["transport_errors"] == 6
    assert summary["transport_errors_by_kind"] == {"ConnectError": 6}
