"""``voiceops warehouse publish``: through the gate (the hook: test_warehouse_hook_cli.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.settings import Settings, get_settings
from versioning.lake import open_lake
from voiceops.cli import app
from warehouse.audits import Audit, CheckResult, audit_log
from warehouse.manifest import project_fingerprint, remember_manifest_hash

REPO = "contact-center"
BRANCH = "ingest-20260101-cli"
MANIFEST = "d" * 64  # the dbt project's manifest hash, seeded so no dbt parse runs


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VOICEOPS_LAKE_FSYNC", "false")
    get_settings.cache_clear()
    settings = Settings()
    remember_manifest_hash(settings, project_fingerprint(), MANIFEST)
    lake = open_lake(settings)
    lake.create_repository(REPO)
    lake.create_branch(REPO, BRANCH, "main")
    lake.upload(REPO, BRANCH, "raw/x.parquet", b"x")
    lake.commit(REPO, BRANCH, "day")
    return settings


def _record(settings: Settings, status: str) -> str:
    commit = open_lake(settings).resolve_ref(REPO, BRANCH)
    checks = [CheckResult("no_pii_nlu_examples", status)]
    audit = Audit(REPO, BRANCH, commit, "audit_x", checks, manifest_hash=MANIFEST)
    audit_log(settings).save(audit)
    return commit


def test_publish_refuses_a_failed_audit_then_publishes_a_clean_one(settings: Settings) -> None:
    runner = CliRunner()
    _record(settings, "fail")
    refused = runner.invoke(app, ["warehouse", "publish", BRANCH])
    assert refused.exit_code == 1
    assert "no_pii_nlu_examples" in refused.stderr
    assert len(open_lake(settings).log(REPO, "main")) == 1
    commit = _record(settings, "pass")
    done = runner.invoke(app, ["warehouse", "publish", BRANCH])
    assert done.exit_code == 0, done.output
    main = open_lake(settings).get_commit(REPO, "main")
    assert main.metadata["voiceops.audited_commit"] == commit
