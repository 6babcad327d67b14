"""What the trail writes: who, what, no secrets; a write that fails is neither lost nor hidden."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from core.settings import Settings
from core.trail import TrailWriteError, check, open_trail, record
from core.trail.recorder import pending_path
from tests.core.trail_world import make_trail

SECRET = "pg-password-9f8e7d6c"


def test_an_entry_says_who_did_what_on_what(tmp_path):
    trail = make_trail(tmp_path)
    entry = record(trail, "promote", "model:voiceops-nlu/v2", {"from": "1", "to": "2"})
    assert (entry.seq, entry.actor, entry.action) == (1, "tester", "promote")
    assert entry.at.endswith("Z") and entry.details_dict() == {"from": "1", "to": "2"}


def test_the_actor_comes_from_the_settings_else_the_user(tmp_path, monkeypatch):
    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path))
    monkeypatch.setenv("VOICEOPS_ACTOR", "ci-bot")
    assert record(open_trail(Settings()), "publish", "x").actor == "ci-bot"
    monkeypatch.delenv("VOICEOPS_ACTOR")
    monkeypatch.setenv("VOICEOPS_USER", "alice")
    assert record(open_trail(Settings()), "publish", "x").actor == "alice"


def test_an_unknown_action_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown trail action"):
        record(make_trail(tmp_path), "delete-everything", "x")


def test_secrets_never_reach_the_database(tmp_path, monkeypatch):
    monkeypatch.setenv("VOICEOPS_PG_PASSWORD", SECRET)
    trail = make_trail(tmp_path)
    record(
        trail,
        "publish",
        f"postgresql://voiceops:{SECRET}@db/warehouse",
        {
            "note": f"connected with {SECRET}",
            "hook_secret": "anything",
            "url": "postgresql://u:other-password@h/db",
            "nested": [{"api_key": "k-123456"}],
            "experiment_key": "nlu-ab",
        },
    )
    stored = (tmp_path / "trail.sqlite3").read_bytes()
    for leaked in (SECRET, "anything", "other-password", "k-123456"):
        assert leaked.encode() not in stored
    details = next(trail.entries()).details_dict()
    assert details["experiment_key"] == "nlu-ab"  # a name with "key" in it is not a secret
    assert check(trail) == (1, None)


def test_a_failed_write_is_kept_pending_raised_and_written_next(tmp_path, monkeypatch):
    trail = make_trail(tmp_path)
    record(trail, "publish", "day-1")
    monkeypatch.setattr("core.trail.recorder.BACKOFF_S", 0.0)
    real_append = trail.append

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is down"))

    monkeypatch.setattr(trail, "append", broken)
    with pytest.raises(TrailWriteError, match="promote of model:x/v2 happened"):
        record(trail, "promote", "model:x/v2", {"to": "2"})
    pending = [json.loads(line) for line in pending_path(trail).read_text().splitlines()]
    assert [item["action"] for item in pending] == ["promote"]
    _, problem = check(trail)
    assert problem is not None and problem.kind == "pending"

    monkeypatch.setattr(trail, "append", real_append)
    record(trail, "rollback", "model:x")
    assert [e.action for e in trail.entries()] == ["publish", "promote", "rollback"]
    assert not pending_path(trail).exists()
    assert check(trail) == (3, None)
