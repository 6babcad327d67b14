"""``voiceops warehouse``: publish through the gate, and the lakeFS hook as a process."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from versioning.lake import open_lake
from voiceops.cli import app
from voiceops.settings import Settings, get_settings
from warehouse.gate import Audit, CheckResult, audit_log

REPO = "contact-center"
BRANCH = "ingest-20260101-cli"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VOICEOPS_LAKE_FSYNC", "false")
    get_settings.cache_clear()
    settings = Settings()
    lake = open_lake(settings)
    lake.create_repository(REPO)
    lake.create_branch(REPO, BRANCH, "main")
    lake.upload(REPO, BRANCH, "raw/x.parquet", b"x")
    lake.commit(REPO, BRANCH, "day")
    return settings


def _record(settings: Settings, status: str) -> str:
    commit = open_lake(settings).resolve_ref(REPO, BRANCH)
    audit = Audit(REPO, BRANCH, commit, "audit_x", [CheckResult("no_pii_nlu_examples", status)])
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


def test_serve_hook_runs_as_a_process(settings: Settings) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "voiceops.cli", "warehouse", "serve-hook", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    assert json.loads(r.read()) == {"ok": True}
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail(f"hook did not start: {server.stderr.read1().decode()}")
    finally:
        server.terminate()
        server.wait(timeout=10)
