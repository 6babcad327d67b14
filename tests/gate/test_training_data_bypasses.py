"""Bypasses 3 and 8: training on marts that a failed or pending build left behind, and a demo
or CLI that reports success whatever happened."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.defs.training.assets import _published_marts
from orchestration.runs import IngestionOutcome, PublishOutcome
from tests.gate.conftest import GateWorld
from training.common.data import StaleDataError, published_commit, read_mart
from voiceops.cli._output import CliError
from voiceops.cli.demo_pipeline import _conclude, _publish_claims
from warehouse.audits import CheckResult
from warehouse.builds import record_build
from warehouse.connection import Warehouse
from warehouse.dbt_build import DbtBuild
from warehouse.load import load_commit
from warehouse.schemas import PUBLISHED

MANIFEST = "c" * 64


def _build(ok: bool) -> DbtBuild:
    checks = [CheckResult("not_null_calls_id", "pass" if ok else "fail")]
    return DbtBuild(0 if ok else 1, checks, MANIFEST, Path("/nonexistent"), "")


def _load(world: GateWorld, commit: str) -> None:
    with Warehouse.from_settings(world.settings) as warehouse:
        load_commit(world.lake, "contact-center", commit, warehouse, PUBLISHED)


def _record(world: GateWorld, commit: str, ok: bool) -> None:
    with Warehouse.from_settings(world.settings) as warehouse:
        record_build(warehouse, PUBLISHED, commit, _build(ok))


def test_marts_are_trained_on_only_as_a_successful_build_of_mains_head(
    world: GateWorld,
) -> None:
    first = world.ingest("ingest-1", {"raw/a.txt": b"a"})
    second = world.ingest("ingest-2", {"raw/b.txt": b"b"}, source="ingest-1")
    _load(world, first)
    with pytest.raises(StaleDataError, match="no built marts"):
        published_commit(world.settings)
    _record(world, first, ok=True)
    assert published_commit(world.settings) == first
    assert _published_marts(world.settings, first) == (first, MANIFEST)
    with pytest.raises(ValueError, match="main is at"):  # main moved on, marts did not
        _published_marts(world.settings, second)

    _load(world, second)  # loaded, not built yet: the marts are still the first commit's
    with pytest.raises(StaleDataError, match="build it again"):
        published_commit(world.settings)
    _record(world, second, ok=False)  # the build of the new commit failed
    with pytest.raises(StaleDataError, match="failed: not_null_calls_id"):
        published_commit(world.settings)
    with pytest.raises(ValueError, match="cannot be trained on"):
        _published_marts(world.settings, second)
    with pytest.raises(StaleDataError):
        read_mart(world.settings, "nlu_examples", commit=second)
    _record(world, second, ok=True)
    assert published_commit(world.settings) == second


def _outcomes(success: bool, published: str | None) -> tuple[IngestionOutcome, PublishOutcome]:
    ingestion = IngestionOutcome(1, "run", "ingest-1", None)  # type: ignore[arg-type]
    failed = [] if success else ["quarantined_share_at_most_20pct"]
    outcome = PublishOutcome("run", success, "ingest-1", "c1", "", failed, published)
    return ingestion, outcome


def test_the_demo_checks_each_claim_and_fails_on_a_false_one() -> None:
    good = _outcomes(True, "m1")
    claims = _publish_claims([(*good, True, "m0", "m1")])
    assert claims == [("day 1 published (main moved to its audit)", True)]
    refused = _outcomes(False, None)
    assert _publish_claims([(*refused, False, "m1", "m1")])[0][1]  # refused, main kept
    # a "refused" day whose main moved anyway, and a "published" day main never reached
    assert not _publish_claims([(*refused, False, "m1", "m2")])[0][1]
    assert not _publish_claims([(*good, True, "m0", "m0")])[0][1]
    _conclude([("every commit main held is a verified publish", True)])
    with pytest.raises(CliError, match="1 demo claim"):
        _conclude([("a", True), ("four champions", False)])
