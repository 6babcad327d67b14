"""dbt unit tests (``unit_tests:`` in the project's YAML): they pass on both adapters, they fail
when the SQL they cover is broken, and the audit counts only the failing ones as checks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tests.warehouse.dbt_runner import PROJECT, Dbt, Target, create_raw_tables, warehouse_target
from warehouse.dbt_build import checks_from_run_results

REDACTION = {
    "int_calls__redacted::redacts_emails",
    "int_calls__redacted::redacts_luhn_valid_cards_only",
    "int_calls__redacted::redacts_phones",
    "int_calls__redacted::redacts_passports",
    "int_calls__redacted::redacts_snils_inn_and_home_addresses",
    "int_calls__redacted::redacts_known_person_names",
}
UNIT_TESTS = REDACTION | {
    "stg_crm__tickets::tickets_keep_the_latest_version",
    "int_pii__person_patterns::person_patterns_match_known_names_with_case_endings",
}


def unit_test_statuses(result: Any) -> dict[str, str]:
    """``<model>::<unit test>`` -> status of every unit test in a dbt result."""
    return {
        f"{r.node.tested_node_unique_id.split('.')[-1]}::{r.node.name}": str(r.status)
        for r in result.result.results
        if r.node.resource_type == "unit_test"
    }


def run_unit_tests(dbt: Dbt, **kwargs: Any) -> Any:
    """``dbt test --select test_type:unit`` over models built empty (for their column types)."""
    built = dbt("run", "--empty")
    assert built.success, built.exception
    return dbt("test", "--select", "test_type:unit", **kwargs)


def test_unit_tests_pass_on_each_adapter(dbt_target: Target) -> None:
    create_raw_tables(dbt_target)
    result = run_unit_tests(dbt_target.dbt)
    assert unit_test_statuses(result) == dict.fromkeys(UNIT_TESTS, "pass")
    assert result.success
    # redaction unit tests pin var redact = true: a relaxed run with redaction off builds the
    # models (so that no_pii can be shown to fail) instead of stopping at the unit tests
    relaxed = dbt_target.dbt("test", "--select", "test_type:unit", vars={"redact": False})
    assert relaxed.success, unit_test_statuses(relaxed)


def _break(project: Path, relative: str, old: str, new: str) -> None:
    path = project / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, (relative, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_broken_sql_fails_its_unit_tests_and_the_audit_names_them(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("target", "logs"))
    # the oldest version of a ticket wins; the Luhn sum is checked against 1 instead of 0
    models = "models/staging/stg_crm__tickets.sql"
    _break(project, models, "order by updated_at desc,", "order by updated_at asc,")
    _break(project, "macros/luhn.sql", ", 10) = 0", ", 10) = 1")
    with warehouse_target("duckdb", tmp_path) as target:
        create_raw_tables(target)
        dbt = Dbt(target.dbt.target, target.dbt.env, tmp_path, project=project)
        result = run_unit_tests(dbt)
        run_results = json.loads((dbt.target_path / "run_results.json").read_text())
    assert not result.success
    statuses = unit_test_statuses(result)
    failed = {name for name, status in statuses.items() if status != "pass"}
    assert failed == {
        "stg_crm__tickets::tickets_keep_the_latest_version",
        "int_calls__redacted::redacts_luhn_valid_cards_only",
    }
    checks = checks_from_run_results(run_results)
    assert {c.name for c in checks} == {f"unit_test {name}" for name in failed}
    assert all(not c.passed and c.message for c in checks)


def test_only_failing_unit_tests_are_audit_checks() -> None:
    def result(unique_id: str, status: str) -> dict[str, str]:
        return {"unique_id": unique_id, "status": status, "message": f"{status} message"}

    checks = checks_from_run_results(
        {
            "results": [
                result("model.voiceops.stg_crm__tickets", "success"),
                result("unit_test.voiceops.stg_crm__tickets.keeps_latest", "pass"),
                result("unit_test.voiceops.int_calls__redacted.redacts_emails", "fail"),
                result("test.voiceops.no_pii_in_nlu_examples.0123456789", "pass"),
                result("test.voiceops.quarantined_share_at_most_20pct.0123456789", "fail"),
            ]
        }
    )
    assert [(c.name, c.status) for c in checks] == [
        ("unit_test int_calls__redacted::redacts_emails", "fail"),
        ("no_pii_in_nlu_examples", "pass"),
        ("quarantined_share_at_most_20pct", "fail"),
    ]
