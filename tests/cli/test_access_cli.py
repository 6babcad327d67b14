"""``voiceops access``: keys are printed once, listed without secrets, revoked by name."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from core.access.keys import KeyStore
from core.settings import Settings


def test_create_list_revoke(monkeypatch, tmp_path) -> None:
    from voiceops.cli import app

    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path))
    runner = CliRunner()
    created = runner.invoke(app, ["access", "create-key", "--name", "gateway", "--role", "service"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[0]
    store = KeyStore(Settings(home=tmp_path).access_location)
    assert store.check(key).name == "gateway"
    listed = runner.invoke(app, ["access", "list", "--json"])
    assert listed.exit_code == 0 and key not in listed.output
    assert [entry["role"] for entry in json.loads(listed.stdout)] == ["service"]
    refused = runner.invoke(app, ["access", "create-key", "--name", "x", "--role", "root"])
    assert refused.exit_code == 1 and "unknown role 'root'" in refused.output
    assert runner.invoke(app, ["access", "revoke", "gateway"]).exit_code == 0
    assert not store.check(key).active
    missing = runner.invoke(app, ["access", "revoke", "ghost"])
    assert missing.exit_code == 1 and "no API key named 'ghost'" in missing.output
    roles = runner.invoke(app, ["access", "roles", "--json"])
    assert json.loads(roles.stdout)["service"] == ["lake:pre-merge", "turn"]
    store.close()
