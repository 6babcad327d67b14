"""``voiceops warehouse serve-hook`` (needs a secret) and ``hook-action`` (the action file)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.settings import Settings
from voiceops.cli import app
from warehouse.hook import DEFAULT_HOOK_URL, SECRET_HEADER, action_yaml
from warehouse.manifest import project_fingerprint, remember_manifest_hash


def test_serve_hook_refuses_to_start_without_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VOICEOPS_HOOK_SECRET", "")
    done = CliRunner().invoke(app, ["warehouse", "serve-hook", "--port", "0"])
    assert done.exit_code == 1
    assert done.stderr.strip().splitlines() == [
        "error: no hook secret: set VOICEOPS_HOOK_SECRET here and the same value as "
        "LAKEFSACTION_VOICEOPS_HOOK_SECRET on the lakeFS server"
    ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _status(request: urllib.request.Request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as err:
        return err.code


def test_serve_hook_runs_as_a_process_and_checks_the_secret(tmp_path: Path) -> None:
    home = tmp_path / "home"
    remember_manifest_hash(Settings(home=home), project_fingerprint(), "m1")  # no dbt parse
    port = _free_port()
    env = os.environ | {"VOICEOPS_HOME": str(home), "VOICEOPS_HOOK_SECRET": "s3cret"}
    command = [sys.executable, "-m", "voiceops.cli", "warehouse", "serve-hook", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=1) as answer:
                    assert json.loads(answer.read()) == {"ok": True}
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail(f"hook did not start: {server.stderr.read1().decode()}")  # type: ignore[union-attr]
        event = json.dumps({"event_type": "pre-merge"}).encode()
        hook = f"{base}/lakefs/pre-merge"
        assert _status(urllib.request.Request(hook, data=event, method="POST")) == 401
        signed = urllib.request.Request(hook, data=event, headers={SECRET_HEADER: "s3cret"})
        assert _status(signed) == 400  # authenticated, but not a whole pre-merge event
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_hook_action_prints_the_action_file_for_a_url() -> None:
    runner = CliRunner()
    url = "http://hooks.internal:8766/lakefs/pre-merge"
    done = runner.invoke(app, ["warehouse", "hook-action", "--url", url])
    assert done.exit_code == 0 and done.stdout == action_yaml(url)
    assert f'url: "{url}"' in done.stdout
    default = runner.invoke(app, ["warehouse", "hook-action"])
    assert default.stdout == action_yaml(DEFAULT_HOOK_URL)
    refused = runner.invoke(app, ["warehouse", "hook-action", "--url", "{{ ENV.URL }}"])
    assert refused.exit_code == 1 and "invalid hook URL" in refused.stderr
