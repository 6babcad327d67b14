"""Canary rollout: it advances 1 % -> 5 % -> 25 % -> 100 % on healthy data, holds without
enough users or before 100 % without its decision earned, and halts and rolls back on a
planted p99 latency regression."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from core.settings import Settings
from core.trail import check, open_trail
from experiments.rollout import advance
from experiments.routing import CHAMPIONS, Router
from experiments.state import StateStore
from tests.experiments.planted import Arm, planted_events
from tests.experiments.test_state import write_spec

T0 = datetime(2026, 12, 7, 8, tzinfo=UTC)
STEPS = [0.01, 0.05, 0.25, 1.0]
CANDIDATES = 25


def stage_traffic(stage: int, candidate: Arm | None = None) -> pd.DataFrame:
    """One stage's events: 25 candidate users and the control users its share implies."""
    share = STEPS[stage]
    control = round(CANDIDATES * (1 - share) / share)
    return planted_events(
        "canary",
        {"control": Arm(control), "candidate": candidate or Arm(CANDIDATES)},
        seed=stage,
        start=(T0 + timedelta(hours=stage, minutes=1)).replace(tzinfo=None),
        user_prefix=f"stage{stage}",
    )


@pytest.fixture
def canary(tmp_path: Path) -> tuple[Settings, Path]:
    specs = tmp_path / "specs"
    write_spec(
        specs,
        "canary",
        arms={"control": {"nlg": 1}, "candidate": {"nlg": 2}},
        rollout={"steps": STEPS, "min_users_per_step": 20, "promote_when": "holds"},
        min_sample_size=20,
    )
    settings = Settings(home=tmp_path / "home")
    StateStore(settings, specs).start("canary", T0, check_registry=False)
    return settings, specs


def test_canary_advances_on_healthy_data(canary: tuple[Settings, Path]) -> None:
    settings, specs = canary
    events = pd.DataFrame()
    actions = []
    for stage in range(len(STEPS)):
        events = pd.concat([events, stage_traffic(stage)], ignore_index=True)
        now = T0 + timedelta(hours=stage + 1)
        step = advance(settings, "canary", events, now=now, specs_dir=specs)
        actions.append((step.action, step.stage))
    assert actions == [("advanced", 1), ("advanced", 2), ("advanced", 3), ("complete", 3)]
    store = StateStore(settings, specs)
    assert store.get("canary").status == "running" and store.get("canary").stage == 3
    assert [t.action for t in store.history("canary")] == ["start", *["advance"] * 3]
    route = Router(settings, specs).route("anyone", T0.date())
    assert route.arm == "candidate" and route.versions == {"nlg": 2}


def test_canary_holds_without_enough_users(canary: tuple[Settings, Path]) -> None:
    settings, specs = canary
    few = stage_traffic(0)
    few = few[~few["user_id"].isin(few.loc[few["arm"] == "candidate", "user_id"].unique()[:10])]
    step = advance(settings, "canary", few, now=T0 + timedelta(hours=1), specs_dir=specs)
    assert step.action == "held" and "15 of 20 candidate users at 1%" in step.reason
    assert StateStore(settings, specs).get("canary").stage == 0


def test_canary_halts_and_rolls_back_on_a_latency_regression(
    canary: tuple[Settings, Path],
) -> None:
    settings, specs = canary
    events = stage_traffic(0)
    assert (
        advance(settings, "canary", events, now=T0 + timedelta(hours=1), specs_dir=specs).action
        == "advanced"
    )
    slow = stage_traffic(1, candidate=Arm(CANDIDATES, latency_ms=700))
    events = pd.concat([events, slow], ignore_index=True)
    step = advance(settings, "canary", events, now=T0 + timedelta(hours=2), specs_dir=specs)
    assert step.action == "halted" and step.stage == 1
    assert "candidate latency_p99_ms" in step.reason and "> 800" in step.reason
    store = StateStore(settings, specs)
    assert store.get("canary").status == "stopped"
    last = store.history("canary")[-1]
    assert (last.action, last.to_status) == ("rollback", "stopped")
    # every caller is back on the champions, and the canary does not move any more
    router = Router(settings, specs)
    assert all(router.route(f"caller-{i}", T0.date()) == CHAMPIONS for i in range(300))
    again = advance(settings, "canary", events, now=T0 + timedelta(hours=3), specs_dir=specs)
    assert again.action == "not running"
    trail = open_trail(settings)  # the stage advanced and the halt, not the no-ops
    steps = [(e.action, e.details_dict()["action"]) for e in trail.entries()]
    assert steps == [("experiment.rollout", "advanced"), ("experiment.rollout", "halted")]
    assert check(trail)[1] is None


def test_dagster_analysis_asset_advances_the_canary_and_attaches_the_report(
    canary: tuple[Settings, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from experiments import decision
    from experiments.state import StateStore
    from orchestration.defs.experiments.analysis import analysis_result

    settings, specs = canary
    monkeypatch.setattr(decision, "read_events", lambda _settings, _key: stage_traffic(0))
    spec = StateStore(settings, specs).spec("canary")
    result = analysis_result(settings, spec, log=lambda _line: None, specs_dir=specs)
    metadata = result.metadata
    assert metadata["rollout"].value.startswith("canary: advanced at stage 1 (5%)")
    assert "| latency_p99_ms | candidate |" in metadata["report"].value
    assert metadata["figure"].value.startswith("![experiment canary](data:image/png;base64,")
    assert metadata["users"].value == {"control": 2475, "candidate": 25}


def test_decision_on_a_full_canary_reads_the_last_shared_stage(
    canary: tuple[Settings, Path],
) -> None:
    """At 100 % the control has no users: the decision compares the 25 % stage's users."""
    from experiments.decision import decide

    settings, specs = canary
    events = pd.DataFrame()
    for stage in range(len(STEPS)):
        events = pd.concat([events, stage_traffic(stage)], ignore_index=True)
        advance(settings, "canary", events, now=T0 + timedelta(hours=stage + 1), specs_dir=specs)
    decision = decide(settings, "canary", events=events, specs_dir=specs, dry_run=True)
    assert decision.analysis.users == {"control": 75, "candidate": 25}
    assert decision.decided and "candidate holds against control" in decision.reason


def test_a_canary_reaches_100_percent_only_with_its_decision_earned(tmp_path: Path) -> None:
    """Once the control has no traffic no evidence can be added: a canary that must win
    (or has too few users) stays at the last stage both arms share."""
    specs = tmp_path / "specs"
    write_spec(
        specs,
        "canary",
        arms={"control": {"nlg": 1}, "candidate": {"nlg": 2}},
        rollout={"steps": STEPS, "min_users_per_step": 20},
        min_sample_size=20,
    )
    settings = Settings(home=tmp_path / "home")
    StateStore(settings, specs).start("canary", T0, check_registry=False)
    events = pd.DataFrame()
    actions = []
    for stage in range(len(STEPS)):
        events = pd.concat([events, stage_traffic(min(stage, 2))], ignore_index=True)
        step = advance(
            settings, "canary", events, now=T0 + timedelta(hours=stage + 1), specs_dir=specs
        )
        actions.append((step.action, step.stage))
    assert actions == [("advanced", 1), ("advanced", 2), ("held", 2), ("held", 2)]
    assert "not yet 100%" in step.reason and "does not beat control" in step.reason
    better = planted_events(
        "canary",
        {"control": Arm(600), "candidate": Arm(200, resolution_rate=0.97)},
        seed=9,
        start=(T0 + timedelta(hours=4, minutes=1)).replace(tzinfo=None),
        user_prefix="better",
    )
    events = pd.concat([events, better], ignore_index=True)
    step = advance(settings, "canary", events, now=T0 + timedelta(hours=6), specs_dir=specs)
    assert (step.action, step.stage) == ("advanced", 3), step.reason


def test_turns_routed_before_the_routers_saw_a_stage_are_left_out(
    canary: tuple[Settings, Path],
) -> None:
    """At 100 % a control turn is a sample-ratio mismatch, unless it came within the grace
    after the stage started (a worker's router had not refreshed yet)."""
    from experiments.rollout import STAGE_GRACE_S

    settings, specs = canary
    events = pd.DataFrame()
    for stage in range(len(STEPS) - 1):
        events = pd.concat([events, stage_traffic(stage)], ignore_index=True)
        advance(settings, "canary", events, now=T0 + timedelta(hours=stage + 1), specs_dir=specs)
    last_start = T0 + timedelta(hours=len(STEPS) - 1)

    def strays(after_s: float) -> pd.DataFrame:
        return planted_events(
            "canary",
            {"control": Arm(3)},
            start=(last_start + timedelta(seconds=after_s)).replace(tzinfo=None),
            user_prefix=f"late{after_s}",
        )

    full = stage_traffic(len(STEPS) - 1)
    full = full[full["arm"] == "candidate"]
    within = pd.concat([events, strays(STAGE_GRACE_S / 3), full], ignore_index=True)
    now = last_start + timedelta(hours=1)
    assert advance(settings, "canary", within, now=now, specs_dir=specs).action == "complete"
    after = pd.concat([within, strays(STAGE_GRACE_S + 5)], ignore_index=True)
    held = advance(settings, "canary", after, now=now, specs_dir=specs)
    assert held.action == "held" and "sample ratio mismatch" in held.reason
