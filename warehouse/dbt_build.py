"""Run the dbt project for one warehouse schema and read its results as checks."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.settings import Settings
from warehouse.audits import PASSING, CheckResult
from warehouse.schemas import layer_schema

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
#: The A/B test models (``models/experiments``, their YAML tests included): built by the
#: ``experiments`` asset group from the event store, never by an audit or a publish, so
#: experiment data cannot block (or be blocked by) the data the gate publishes.
EXPERIMENT_MODELS = "path:models/experiments"
#: dbt selection arguments of every audit and publish build: the project minus the experiments.
AUDIT_SELECTION = ("--exclude", EXPERIMENT_MODELS)


def dbt_env(settings: Settings) -> dict[str, str]:
    """Environment for dbt: which target, where its warehouse is, where it logs (under the
    home, not the project: parallel runs of two homes do not share a log file)."""
    return {
        "DBT_TARGET": settings.dbt_target,
        "DBT_LOG_PATH": str(settings.home / "dbt" / "logs"),
        "VOICEOPS_DUCKDB_PATH": str(settings.warehouse_path),
        "VOICEOPS_PG_HOST": settings.pg_host,
        "VOICEOPS_PG_PORT": str(settings.pg_port),
        "VOICEOPS_PG_USER": settings.pg_user,
        "VOICEOPS_PG_PASSWORD": settings.pg_password.get_secret_value(),
        "VOICEOPS_PG_DATABASE": settings.pg_database,
        "DO_NOT_TRACK": "1",
    }


def dbt_vars(schema: str, extra: dict[str, Any] | None = None) -> str:
    """``--vars`` that point dbt at one schema: models in ``<schema>_*``, sources in raw."""
    return json.dumps(
        {"audit_schema": schema, "raw_schema": layer_schema(schema, "raw")} | (extra or {})
    )


def checks_from_run_results(run_results: dict[str, Any]) -> list[CheckResult]:
    """Every dbt data test as a check; a model or seed that errored is a failed check too.

    Unit tests (``dbt build`` runs them before the model they test) check the SQL on fixed
    fixture rows, not the audited commit's data: a passing one says nothing about the commit
    and is not a check, so an audit lists the same checks as Dagster's asset checks (dagster-dbt
    makes none of unit tests). One that fails or errors is a failed check: dbt skipped the
    model it tests and everything downstream, and the refusal names the cause.
    """
    checks = []
    for result in run_results.get("results", []):
        unique_id = result["unique_id"]  # test.<package>.<name>[.<hash of a generic test>]
        parts = unique_id.split(".")
        kind, name = parts[0], parts[2] if len(parts) > 2 else parts[-1]
        if kind == "test":
            checks.append(CheckResult(name, result["status"], result.get("message") or ""))
        elif kind == "unit_test":  # unit_test.<package>.<model>.<name>
            if result["status"] not in PASSING:
                check = f"unit_test {name}::{parts[-1]}"
                checks.append(CheckResult(check, result["status"], result.get("message") or ""))
        elif result["status"] == "error":
            checks.append(CheckResult(f"{kind} {name}", "error", result.get("message") or ""))
    return checks


def manifest_hash(manifest: dict[str, Any]) -> str:
    """A hash of what the audited project is (node checksums), not of when it was parsed.

    The experiment models are left out: editing them changes nothing an audit checked."""
    experiments = EXPERIMENT_MODELS.removeprefix("path:") + "/"
    parts = sorted(
        f"{uid}:{node.get('checksum', {}).get('checksum', '')}"
        for uid, node in {**manifest.get("nodes", {}), **manifest.get("sources", {})}.items()
        if not node.get("original_file_path", "").startswith(experiments)
    )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@dataclass
class DbtBuild:
    returncode: int
    checks: list[CheckResult]
    manifest_hash: str
    target_path: Path
    log_tail: str


def dbt_build(
    settings: Settings, schema: str, *, extra_vars: dict[str, Any] | None = None
) -> DbtBuild:
    """``dbt build`` of the project into ``schema``; results from ``run_results.json``."""
    target_path = settings.home / "dbt" / "target" / schema
    command = [
        str(Path(sys.executable).parent / "dbt"),
        "build",
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target", settings.dbt_target,
        "--target-path", str(target_path),
        "--vars", dbt_vars(schema, extra_vars),
        *AUDIT_SELECTION,
    ]  # fmt: skip
    env = os.environ | dbt_env(settings)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    results_file = target_path / "run_results.json"
    if not results_file.is_file():
        raise RuntimeError(f"dbt build into {schema} did not run: {done.stdout[-2000:]}")
    checks = checks_from_run_results(json.loads(results_file.read_text()))
    manifest = json.loads((target_path / "manifest.json").read_text())
    return DbtBuild(
        done.returncode, checks, manifest_hash(manifest), target_path, done.stdout[-4000:]
    )
