"""Promote / rollback / history round trip through the CLI, on SQLite and on Postgres;
bad input is one clear line, exit 1, and changes nothing."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from registry.register import register
from registry.tracking import client
from registry.versions import aliases
from tests.registry.conftest import World, permissive_policy
from voiceops.cli import app


@pytest.fixture
def cli(world: World, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("VOICEOPS_HOME", str(world.settings.home))
    monkeypatch.setenv("VOICEOPS_USER", "alice")
    if world.settings.mlflow_tracking_uri:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", world.settings.mlflow_tracking_uri)
    else:
        monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args))
        return result.exit_code, result.stdout, result.stderr

    return run


def _error(cli, *args: str) -> str:
    code, out, err = cli(*args)
    assert code == 1, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_promote_rollback_history_round_trip(world: World, cli, nlu_good) -> None:
    passing = register(
        "nlu",
        nlu_good.info(world.published),
        settings=world.settings,
        lake=world.lake,
        rows=nlu_good.rows,
        policy=permissive_policy(),
    )
    refused = register(
        "nlu",
        nlu_good.info(world.published),
        settings=world.settings,
        lake=world.lake,
        rows=nlu_good.rows,
        policy=permissive_policy(nlu={"minimum": {"all": {"intent_accuracy": 1.01}}}),
    )
    v1, v2 = passing.version, refused.version
    mlflow = client(world.settings)
    assert aliases(mlflow, "voicebot-nlu") == {"champion": v1}

    # bad input: one line, exit 1, nothing moves
    assert "unknown family 'asr'" in _error(cli, "models", "promote", "asr", v1)
    assert "has no version 99" in _error(cli, "models", "promote", "nlu", "99")
    assert "--force --reason" in _error(cli, "models", "promote", "nlu", v2)
    assert "needs --reason" in _error(cli, "models", "promote", "nlu", v2, "--force")
    assert "no previous champion" in _error(cli, "models", "rollback", "nlu")
    assert "has no alias 'staging'" in _error(cli, "models", "show", "nlu", "@staging")
    assert aliases(mlflow, "voicebot-nlu") == {"champion": v1}

    code, out, err = cli("models", "promote", "nlu", v2, "--force", "--reason", "hotfix test")
    assert code == 0, err
    assert aliases(mlflow, "voicebot-nlu") == {"champion": v2}
    code, out, err = cli("models", "rollback", "nlu", "--reason", "bad canary")
    assert code == 0, err
    assert f"v{v2} -> v{v1}" in out
    assert aliases(mlflow, "voicebot-nlu") == {"champion": v1}
    assert "no previous champion" in _error(cli, "models", "rollback", "nlu")

    code, out, _ = cli("models", "history", "nlu", "--json")
    moves = json.loads(out)
    assert [(m["action"], m["from_version"], m["to_version"]) for m in moves] == [
        ("promote", None, v1),
        ("promote", v1, v2),
        ("rollback", v2, v1),
    ]
    assert moves[1]["user"] == "alice" and "hotfix test" in moves[1]["reason"]
    assert moves[2]["reason"] == "bad canary"
    assert moves[0]["at"] <= moves[1]["at"] <= moves[2]["at"]

    code, out, _ = cli("models", "list", "nlu", "--json")
    listed = {row["version"]: row for row in json.loads(out)}
    assert listed[v1]["aliases"] == ["champion"] and listed[v2]["gate"] == "refused"
    code, out, _ = cli("models", "show", "nlu", "@champion")
    assert code == 0
    for expected in (
        "voicebot-nlu v" + v1,
        "lake commit contact-center@",
        "ingestion run run1",
        "crm.customers: 12 records, 1 quarantined",
        "gate passed",
    ):
        assert expected in out, out
