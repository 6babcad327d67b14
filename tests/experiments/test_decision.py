"""The decision on a real MLflow registry (tiny NLU versions registered through the gate):
a planted better arm wins and its version becomes champion with the experiment as the
reason; equal arms give "no decision" and promote nothing; a gate failure is never
overruled by an experiment; the CLI reports both outcomes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.trail import check, open_trail
from experiments.decision import decide
from experiments.state import StateStore
from registry.aliases import alias_history, promote
from registry.errors import RegistryError
from registry.register import register
from registry.tracking import client
from registry.versions import aliases
from tests.experiments.planted import Arm, planted_events
from tests.experiments.test_state import write_spec
from tests.registry.conftest import (  # noqa: F401 - fixtures
    World,
    build_world,
    nlu_good,
    nlu_rows,
    permissive_policy,
)
from voiceops.cli import app

NOW = datetime(2026, 12, 8, tzinfo=UTC)
MODEL = "voicebot-nlu"


@pytest.fixture(scope="module")
def registry_world(tmp_path_factory, nlu_good) -> tuple[World, str, str, str]:  # noqa: F811
    """v1 champion, v2 passed the gate (challenger), v3 refused by the gate."""
    world = build_world(tmp_path_factory.mktemp("decision") / "home")

    def register_one(**policy: object) -> str:
        return register(
            "nlu",
            nlu_good.info(world.published),
            settings=world.settings,
            lake=world.lake,
            rows=nlu_good.rows,
            policy=permissive_policy(**policy),
        ).version

    v1, v2 = register_one(), register_one()
    v3 = register_one(nlu={"minimum": {"all": {"intent_accuracy": 1.01}}})
    assert aliases(client(world.settings), MODEL) == {"champion": v1, "challenger": v2}
    return world, v1, v2, v3


def experiment(world: World, specs: Path, key: str, control: str, treatment: str) -> StateStore:
    write_spec(
        specs,
        key,
        arms={"control": {"nlu": int(control)}, "treatment": {"nlu": int(treatment)}},
        metrics=[
            {"name": "resolution_rate", "better": "higher"},
            {"name": "latency_ms", "better": "lower"},
        ],
        min_sample_size=1000,
    )
    store = StateStore(world.settings, specs)
    store.start(key, NOW)
    return store


def test_equal_arms_give_no_decision(registry_world, tmp_path: Path) -> None:
    world, v1, v2, _ = registry_world
    store = experiment(world, tmp_path, "equal", v1, v2)
    events = planted_events("equal", {"control": Arm(1500), "treatment": Arm(1500)}, seed=5)
    decision = decide(world.settings, "equal", events=events, specs_dir=tmp_path)
    assert not decision.decided and decision.outcome == "no decision"
    assert "treatment does not beat control on resolution_rate" in decision.reason
    assert decision.promotions == []
    assert aliases(client(world.settings), MODEL)["champion"] == v1
    assert store.get("equal").status == "running"
    assert store.history("equal")[-1].action == "no decision"


def test_not_enough_users_gives_no_decision(registry_world, tmp_path: Path) -> None:
    world, v1, v2, _ = registry_world
    experiment(world, tmp_path, "small", v1, v2)
    events = planted_events("small", {"control": Arm(300), "treatment": Arm(300, 0.99)})
    decision = decide(world.settings, "small", events=events, specs_dir=tmp_path)
    assert not decision.decided and "not enough users" in decision.reason


def test_planted_better_arm_is_promoted(registry_world, tmp_path: Path) -> None:
    world, v1, v2, _ = registry_world
    store = experiment(world, tmp_path, "better", v1, v2)
    events = planted_events(
        "better", {"control": Arm(1500), "treatment": Arm(1500, resolution_rate=0.88)}, seed=6
    )
    dry = decide(world.settings, "better", events=events, specs_dir=tmp_path, dry_run=True)
    assert dry.decided and dry.winner == "treatment" and dry.promotions[0].to_version == v2
    assert aliases(client(world.settings), MODEL)["champion"] == v1  # a dry run moves nothing

    decision = decide(world.settings, "better", events=events, specs_dir=tmp_path)
    assert decision.decided and decision.winner == "treatment"
    assert [(p.family, p.from_version, p.to_version) for p in decision.promotions] == [
        ("nlu", v1, v2)
    ]
    assert aliases(client(world.settings), MODEL)["champion"] == v2
    move = [m for m in alias_history(world.settings, "nlu") if m.alias == "champion"][-1]
    assert (move.action, move.from_version, move.to_version) == ("promote", v1, v2)
    assert move.reason.startswith("experiment better: ")
    assert "treatment beats control on resolution_rate" in move.reason
    assert store.get("better").status == "decided"
    trail = open_trail(world.settings)
    *_, promoted, decided = trail.entries()
    assert (promoted.action, promoted.subject) == ("promote", f"model:{MODEL}/v{v2}")
    assert promoted.details_dict()["evidence"] == "better"
    assert (decided.action, decided.subject) == ("experiment.decision", "experiment:better")
    assert decided.details_dict()["winner"] == "treatment"
    assert check(trail)[1] is None


def test_experiment_evidence_never_overrules_a_failed_gate_rule(registry_world) -> None:
    world, _, _, v3 = registry_world
    with pytest.raises(RegistryError, match="refused by the gate"):
        promote(world.settings, "nlu", v3, reason="won", evidence="some-experiment")


def test_cli_decide_exit_codes(registry_world, tmp_path: Path, monkeypatch) -> None:
    world, *_ = registry_world
    monkeypatch.setenv("VOICEOPS_HOME", str(world.settings.home))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    runner = CliRunner()
    result = runner.invoke(app, ["experiments", "decide", "nlu-canary"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: experiment nlu-canary is draft: nothing to decide"
    result = runner.invoke(app, ["experiments", "power", "--baseline", "0.8", "--mde", "0.02"])
    assert result.exit_code == 0 and "6039 users per arm" in result.stdout
    result = runner.invoke(app, ["experiments", "power", "--baseline", "0.6", "--margin", "0.15"])
    assert result.exit_code == 0 and "325 users per arm" in result.stdout
    assert "always-valid" in result.stdout
    result = runner.invoke(app, ["experiments", "power", "--baseline", "0.6"])
    assert result.exit_code == 1 and "exactly one of --mde and --margin" in result.stderr
    result = runner.invoke(app, ["experiments", "start", "nlu-canary"])
    assert result.exit_code == 1
    assert "arm 'control' cannot be served: nlu v3" in result.stderr
