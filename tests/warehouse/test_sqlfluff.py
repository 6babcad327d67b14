"""sqlfluff with the dbt templater (``dbt_project/.sqlfluff``, ``make lint``): the project's SQL
passes, and a model breaking the house style does not.

The dbt templater compiles the whole project first (about 8 s here); the two redaction models
(deeply nested regexp_replace calls) take most of the rest of a full lint (about 45 s)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.warehouse.dbt_runner import PROJECT

SQLFLUFF = str(Path(sys.executable).parent / "sqlfluff")


def sqlfluff_lint(project: Path, *paths: str) -> tuple[int, list[dict[str, Any]]]:
    """``sqlfluff lint`` run in ``project`` as ``make lint`` runs it: exit code, JSON report."""
    done = subprocess.run(
        [SQLFLUFF, "lint", *paths, "--format", "json", "--nofail"],
        cwd=project, capture_output=True, text=True, check=False,
        env=os.environ | {"DO_NOT_TRACK": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    violations = sum(len(f["violations"]) for f in report)
    return violations, report


def test_the_project_sql_passes_sqlfluff() -> None:
    violations, report = sqlfluff_lint(PROJECT, ".")
    linted = {f["filepath"] for f in report}
    models = {str(p.relative_to(PROJECT)) for p in PROJECT.glob("models/**/*.sql")}
    assert len(models) == 21 and models <= linted
    assert "tests/assert_stt_test_transcripts_not_in_train.sql" in linted
    problems = [
        f"{f['filepath']}:{v['start_line_no']} {v['code']} {v['description']}"
        for f in report
        for v in f["violations"]
    ]
    assert violations == 0, "\n".join(problems)


def test_a_model_against_the_house_style_fails(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("target", "logs"))
    bad = project / "models" / "staging" / "stg_bad.sql"
    bad.write_text(
        "SELECT call_id\n    , upper(intent) intent\nFROM {{ ref('stg_call_exports__calls') }}\n"
    )
    violations, report = sqlfluff_lint(project, "models/staging/stg_bad.sql")
    codes = {v["code"] for f in report for v in f["violations"]}
    assert {"CP01", "LT04", "AL02"} <= codes, codes  # upper case, leading comma, implicit alias
    assert violations >= 3
