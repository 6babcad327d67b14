"""Publish a simulated day through the real pipeline: the tests' shared way to get a
published lake commit (simulator -> embedded Airbyte -> lake -> dbt audit -> publish)."""

from __future__ import annotations

from core.settings import Settings
from ingestion.simulator.day import write_day
from versioning.lake import open_lake

LAKE_REPO = "contact-center"


def publish_day(
    settings: Settings,
    day: int = 1,
    *,
    calls: int = 700,
    seed: int | None = None,
    bad_rate: float = 0.0,
    audio: bool = False,
) -> str:
    """Simulate ``day`` (seed ``20 + day`` unless given), ingest, audit and publish it; the
    published commit (the publish must succeed)."""
    from orchestration.runs import audit_and_publish, ingest_day

    seed = 20 + day if seed is None else seed
    write_day(settings.sources_root, day, calls=calls, seed=seed, bad_rate=bad_rate, audio=audio)
    ingest_day(day, open_lake(settings), LAKE_REPO)
    outcome = audit_and_publish(echo_dbt_log=False)
    assert outcome.success and outcome.published_commit, outcome.summary
    return outcome.published_commit
