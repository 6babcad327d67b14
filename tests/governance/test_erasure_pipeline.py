"""Erasure after the real ingestion: a simulated day (calls, CRM, recordings, planted bad
records) goes through the Dagster ingestion job and embedded Airbyte into the lake, sealed at
landing, and is loaded into a warehouse schema; two of its customers are erased with
``voiceops privacy erase``; the proof finds nothing of them at any ref, a third customer's
findings are unchanged, and a reload of the commit leaves the erased rows out (counted)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from core.settings import Settings
from governance.subject_search import search
from ingestion.simulator import layout as lay
from ingestion.simulator.day import write_day
from tests.pipeline_days import LAKE_REPO
from versioning.lake import open_lake
from voiceops.cli import app
from warehouse.connection import Warehouse
from warehouse.load import LoadReport, load_commit

pytestmark = pytest.mark.slow


def _callers(settings: Settings) -> list[str]:
    """Customers of day 1's calls, most calls first."""
    counts: dict[str, int] = {}
    for line in lay.calls_jsonl(settings.sources_root, 1).read_text().splitlines():
        try:
            customer = json.loads(line).get("customer_id")
        except ValueError:
            continue
        if isinstance(customer, str) and customer:
            counts[customer] = counts.get(customer, 0) + 1
    return sorted(counts, key=lambda c: (-counts[c], c))


def _load(settings: Settings, commit: str, schema: str) -> LoadReport:
    warehouse = Warehouse.from_settings(settings)
    try:
        return load_commit(open_lake(settings), LAKE_REPO, commit, warehouse, schema)
    finally:
        warehouse.close()


def _findings(settings: Settings, customer: str) -> set[tuple]:
    return {(f.layer, f.where, f.kind, f.count) for f in search(settings, customer).findings}


def test_erasing_two_customers_of_an_ingested_day(pipeline_settings: Settings) -> None:
    from orchestration.runs import ingest_day

    settings = pipeline_settings
    write_day(settings.sources_root, 1, calls=40, seed=7, bad_rate=0.05, audio=True)
    commit = ingest_day(1, open_lake(settings), LAKE_REPO).commit.id
    assert _load(settings, commit, "audit_day1").rows_erased == 0
    callers = _callers(settings)
    erased, kept = callers[:2], callers[2]
    kept_before = _findings(settings, kept)
    layers = {"lake", "warehouse", "sources"}
    assert layers <= {layer for layer, *_ in kept_before}
    for customer in erased:
        assert layers <= {layer for layer, *_ in _findings(settings, customer)}

    runner = CliRunner()
    for customer in erased:
        result = runner.invoke(app, ["privacy", "erase", "--customer", customer])
        assert result.exit_code == 0, result.output
        assert "key destroyed" in result.output
        assert "erased: proof: nothing found" in result.output
        assert search(settings, customer).total() == 0

    assert _findings(settings, kept) == kept_before
    reloaded = _load(settings, commit, "audit_day1_again")
    assert reloaded.rows_erased > 0 and reloaded.rows_loaded > 0
