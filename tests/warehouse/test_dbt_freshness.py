"""``dbt source freshness``: a raw table is as fresh as the last object the load step loaded
into it (``_loads.loaded_at``), and a stale one is a warning, never an error."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.warehouse.dbt_runner import Target, create_raw_tables


def test_source_freshness_follows_the_load_step(dbt_target: Target) -> None:
    create_raw_tables(dbt_target)
    now = datetime.now(UTC)
    loads = [  # lake_path, checksum, table_name, rows, lake_commit, loaded_at
        ("raw/crm/customers/dt=2026-01-01/part-0.parquet", "a", "crm_customers", 6, "c1", now),
        ("raw/crm/customers/dt=2025-12-01/part-0.parquet", "b", "crm_customers", 6, "c0",
         now - timedelta(days=40)),
        ("raw/crm/tickets/dt=2025-12-01/part-0.parquet", "c", "crm_tickets", 3, "c0",
         now - timedelta(days=30)),
        ("raw/call_exports/calls/dt=2026-01-01/part-0.parquet", "d", "call_exports_calls", 9,
         "c1", now - timedelta(hours=2)),
    ]  # fmt: skip
    dbt_target.execute(f'insert into "{dbt_target.raw}"."_loads" values (?, ?, ?, ?, ?, ?)', loads)

    result = dbt_target.dbt("source", "freshness")

    statuses = {r.node.name: str(r.status) for r in result.result.results}
    assert statuses == {
        "crm_customers": "pass",  # its newest object was loaded now
        "call_exports_calls": "pass",
        "crm_tickets": "warn",  # nothing new for 30 days
        "recordings": "warn",  # never loaded
    }  # quarantine has none: a day without rejects loads nothing there
    assert result.success  # stale is a warning only
    sources: dict[str, Any] = json.loads((dbt_target.dbt.target_path / "sources.json").read_text())
    ages = {
        r["unique_id"].split(".")[-1]: r["max_loaded_at_time_ago_in_s"] for r in sources["results"]
    }
    assert ages["crm_customers"] < 3600
    assert 29 * 86400 < ages["crm_tickets"] < 31 * 86400
