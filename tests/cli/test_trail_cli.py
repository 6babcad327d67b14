"""``voiceops trail list|verify``: entries filtered, JSON, and a failed verification that
names the first bad entry with exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from core.settings import Settings
from core.trail import open_trail, record
from core.trail.store import trail_table
from voiceops.cli import app


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VOICEOPS_ACTOR", "alice")
    trail = open_trail(Settings())
    record(trail, "publish", "lakefs://contact-center/ingest-1@abc", {"into": "main"})
    record(trail, "promote", "model:voicebot-nlu/v2", {"from_version": "1"})
    record(trail, "promote.forced", "model:voicebot-nlu/v3", {"reason": "hotfix"})
    return Settings()


def run(*args: str):
    return CliRunner().invoke(app, ["trail", *args])


def test_list_prints_every_entry_oldest_first(settings: Settings) -> None:
    result = run("list")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["#1", "#2", "#3"]
    assert "alice publish lakefs://contact-center/ingest-1@abc" in lines[0]


def test_list_filters_by_action_and_time_as_json(settings: Settings) -> None:
    exact = json.loads(run("list", "--action", "promote", "--json").stdout)
    assert [e["subject"] for e in exact] == ["model:voicebot-nlu/v2"]
    family = json.loads(run("list", "--action", "promote.", "--json").stdout)
    assert [e["action"] for e in family] == ["promote.forced"]
    assert json.loads(run("list", "--since", "2999-01-01", "--json").stdout) == []
    assert run("list", "--action", "nonsense").exit_code == 1


def test_verify_passes_then_names_the_edited_entry(settings: Settings) -> None:
    ok = run("verify")
    assert ok.exit_code == 0 and "3 entries" in ok.stdout
    with open_trail(settings).engine.begin() as connection:
        connection.execute(
            sa.update(trail_table).where(trail_table.c.seq == 2).values(actor="mallory")
        )
    failed = run("verify")
    assert failed.exit_code == 1
    assert "entry #2: edited" in failed.stderr
