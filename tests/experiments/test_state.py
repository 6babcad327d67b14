"""The lifecycle: transitions allowed and refused, history, the registry check on start."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from core.settings import Settings
from experiments.state import ExperimentStateError, StateStore, state_url

NOW = datetime(2026, 12, 8, 9, tzinfo=UTC)


def write_spec(directory: Path, key: str, **overrides: object) -> Path:
    data = {
        "key": key,
        "arms": {"control": {"nlu": 1}, "treatment": {"nlu": 2}},
        "start": "2026-12-07",
        "stop": "2026-12-21",
        "metrics": [{"name": "resolution_rate", "better": "higher"}],
        "guardrails": {"latency_p99_ms": 800, "error_rate": 0.01, "handoff_rate": 0.15},
        "min_sample_size": 100,
    } | overrides
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{key}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    write_spec(tmp_path / "specs", "ab")
    return StateStore(Settings(home=tmp_path / "home"), tmp_path / "specs")


def test_lifecycle_and_history(store: StateStore) -> None:
    assert store.get("ab").status == "draft" and store.all() == {}
    with pytest.raises(ExperimentStateError, match="ab is draft, not running"):
        store.stop("ab", "nothing to stop")
    started = store.start("ab", NOW, check_registry=False)
    assert started.status == "running" and started.started_at == NOW.timestamp()
    with pytest.raises(ExperimentStateError, match="ab is running: it cannot start"):
        store.start("ab", NOW, check_registry=False)
    assert store.stop("ab", "bad audio").status == "stopped"
    store.start("ab", NOW, check_registry=False)
    assert store.record_decision("ab", "promoted treatment").status == "decided"
    with pytest.raises(ExperimentStateError, match="decided: it cannot start"):
        store.start("ab", NOW, check_registry=False)
    history = store.history("ab")
    assert [(t.action, t.from_status, t.to_status) for t in history] == [
        ("start", "draft", "running"),
        ("stop", "running", "stopped"),
        ("start", "stopped", "running"),
        ("decide", "running", "decided"),
    ]
    assert history[1].reason == "bad audio" and history[0].at == NOW.timestamp()
    assert set(store.all()) == {"ab"}


def test_state_survives_a_new_store(store: StateStore, tmp_path: Path) -> None:
    store.start("ab", NOW, check_registry=False)
    again = StateStore(Settings(home=tmp_path / "home"), tmp_path / "specs")
    assert again.get("ab").status == "running"
    assert state_url(again.settings).endswith("experiments/state.sqlite3")


def test_unknown_key_and_ended_experiment(store: StateStore) -> None:
    with pytest.raises(ExperimentStateError, match=r"no experiment 'nope' .*known: ab"):
        store.start("nope", NOW)
    with pytest.raises(ExperimentStateError, match="ended on 2026-12-21"):
        store.start("ab", datetime(2026, 12, 21, tzinfo=UTC), check_registry=False)


def test_start_refuses_versions_the_registry_does_not_have(store: StateStore) -> None:
    with pytest.raises(ExperimentStateError) as caught:
        store.start("ab", NOW)
    message = str(caught.value)
    assert "arm 'control' cannot be served: nlu v1" in message
    assert "voicebot-nlu" in message
    assert store.get("ab").status == "draft"
