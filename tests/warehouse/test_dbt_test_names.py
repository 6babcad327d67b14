"""Every generic dbt test has an explicit, readable name (it is the check name an audit
refusal, Dagster and the registry's lineage show), and names that state a threshold state the
project's own value."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml

from tests.warehouse.dbt_runner import PROJECT


def _tests_of(node: dict[str, Any], where: str) -> Iterator[tuple[str, Any]]:
    for test in node.get("data_tests", []) or []:
        yield where, test
    for column in node.get("columns", []) or []:
        yield from _tests_of(column, f"{where}.{column['name']}")


def generic_tests() -> list[tuple[str, Any]]:
    """(model[.column], test entry) of every generic test in the project's YAML."""
    found = []
    for path in sorted(PROJECT.glob("[ms]*/**/*.yml")):  # models/, seeds/
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for kind in ("models", "seeds", "sources"):
            for node in document.get(kind, []) or []:
                found += _tests_of(node, node["name"])
                for table in node.get("tables", []) or []:
                    found += _tests_of(table, f"{node['name']}.{table['name']}")
    return found


def test_every_generic_test_has_a_unique_explicit_name() -> None:
    tests = generic_tests()
    assert len(tests) > 50
    unnamed = [(where, test) for where, test in tests if not isinstance(test, dict)]
    unnamed += [
        (where, test)
        for where, test in tests
        if isinstance(test, dict) and not (next(iter(test.values())) or {}).get("name")
    ]
    assert not unnamed, unnamed
    names = [next(iter(test.values()))["name"] for _, test in tests]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert all(re.fullmatch(r"[a-z0-9_]+", name) for name in names), names


def test_the_quarantine_threshold_in_its_name_is_the_projects() -> None:
    project = yaml.safe_load((PROJECT / "dbt_project.yml").read_text(encoding="utf-8"))
    names = {next(iter(test.values()))["name"] for _, test in generic_tests()}
    percent = round(project["vars"]["max_quarantine_share"] * 100)
    assert f"quarantined_share_at_most_{percent}pct" in names
