"""Fixtures of the warehouse tests: the dbt project on each adapter it supports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.warehouse.dbt_runner import Target, warehouse_target


@pytest.fixture(params=["duckdb", "postgres"])
def dbt_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """An empty warehouse (no raw tables yet) on DuckDB, then on Postgres."""
    with warehouse_target(request.param, tmp_path) as target:
        yield target
