"""The retraining loop's canaries on a real MLflow registry (tiny NLU versions through the
gate): the spec comes from the template and reads back; a healthy candidate is promoted at
the last stage and its trace says so; a broken guardrail rolls it back (challenger
withdrawn, champion unchanged); a worse candidate expires at its stop date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml

from core.errors import InputError
from experiments.canary import canary_key, load_template, start_canary
from experiments.canary_review import review_canary
from experiments.routing import Router
from experiments.spec import generated_specs_dir, load_spec
from experiments.state import StateStore
from registry.loop_trace import record, trace
from registry.register import register
from registry.tracking import client
from registry.versions import aliases
from tests.experiments.planted import Arm, planted_events
from tests.registry.conftest import (  # noqa: F401 - fixtures
    World,
    build_world,
    nlu_good,
    nlu_rows,
    permissive_policy,
)

T0 = datetime(2026, 12, 7, 8, tzinfo=UTC)
MODEL = "voicebot-nlu"
STEPS = [0.5, 1.0]
USERS = 40  # candidate users per stage


def small_template(path: Path, **overrides: object) -> Path:
    data = {
        "rollout": {"steps": STEPS, "min_users_per_step": 30, "promote_when": "holds"},
        "days": 3,
        "metrics": [
            {"name": "resolution_rate", "better": "higher"},
            {"name": "handoff_rate", "better": "lower"},
        ],
        "guardrails": {"latency_p99_ms": 800, "error_rate": 0.05, "handoff_rate": 0.3},
        "min_sample_size": 30,
    } | overrides
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def loop_world(tmp_path: Path, nlu_good) -> tuple[World, str, str]:  # noqa: F811
    """v1 champion, v2 challenger, and the small canary template configured."""
    world = build_world(tmp_path / "home")
    versions = [
        register(
            "nlu",
            nlu_good.info(world.published),
            settings=world.settings,
            lake=world.lake,
            rows=nlu_good.rows,
            policy=permissive_policy(),
        ).version
        for _ in range(2)
    ]
    template = small_template(tmp_path / "canary.yaml")
    settings = world.settings.model_copy(update={"canary_template": template})
    world = World(**{**world.__dict__, "settings": settings})
    assert aliases(client(settings), MODEL) == {"champion": versions[0], "challenger": versions[1]}
    return world, versions[0], versions[1]


def stage_events(key: str, stage: int, candidate: Arm | None = None) -> pd.DataFrame:
    """One stage's users: USERS candidates and the control users the stage's share implies."""
    share = STEPS[stage]
    control = round(USERS * (1 - share) / share)
    arms = {"candidate": candidate or Arm(USERS)}
    if control:
        arms = {"control": Arm(control), **arms}
    return planted_events(
        key,
        arms,
        seed=stage,
        start=(T0 + timedelta(hours=stage, minutes=1)).replace(tzinfo=None),
        user_prefix=f"stage{stage}",
    )


def run_stages(world: World, key: str, candidate: Arm | None = None) -> list[str]:
    events = pd.DataFrame()
    actions = []
    for stage in range(len(STEPS)):
        events = pd.concat([events, stage_events(key, stage, candidate)], ignore_index=True)
        now = T0 + timedelta(hours=stage + 1)
        actions.append(review_canary(world.settings, key, events=events, now=now).action)
    return actions


def test_template_errors_name_the_file_and_field(tmp_path: Path, loop_world) -> None:
    world, _, _ = loop_world
    bad = small_template(tmp_path / "bad.yaml", days=0, arms={"a": {}})
    settings = world.settings.model_copy(update={"canary_template": bad})
    with pytest.raises(InputError, match=r"bad.yaml: arms: unknown field"):
        load_template(settings)


def test_canary_spec_is_written_started_and_routed(loop_world) -> None:
    world, v1, v2 = loop_world
    spec = start_canary(world.settings, {"nlu": int(v1)}, {"nlu": int(v2)}, now=T0)
    assert spec.key == canary_key({"nlu": int(v2)}) == f"canary-nlu-v{v2}"
    path = generated_specs_dir(world.settings) / f"{spec.key}.yaml"
    assert load_spec(path) == spec
    assert spec.arms == {"control": {"nlu": int(v1)}, "candidate": {"nlu": int(v2)}}
    assert (spec.start, spec.stop) == (T0.date(), T0.date() + timedelta(days=3))
    assert StateStore(world.settings).get(spec.key).status == "running"
    # asking again for the same versions is the same canary, not a second one
    assert start_canary(world.settings, {"nlu": int(v1)}, {"nlu": int(v2)}, now=T0) == spec
    assert [t.action for t in StateStore(world.settings).history(spec.key)] == ["start"]
    # the serving router reads generated specs beside the reviewed ones
    assert ("nlu", int(v2)) in Router(world.settings).pinned_versions(T0.date())
    with pytest.raises(InputError, match="same families"):
        start_canary(world.settings, {"nlu": int(v1)}, {"nlg": 1}, now=T0)


def test_healthy_candidate_is_promoted_at_the_last_stage(loop_world) -> None:
    world, v1, v2 = loop_world
    key = start_canary(world.settings, {"nlu": int(v1)}, {"nlu": int(v2)}, now=T0).key
    assert run_stages(world, key) == ["advanced", "promoted"]
    assert aliases(client(world.settings), MODEL) == {"champion": v2}
    assert trace(world.settings, "nlu", v2)["decision"].startswith(
        f"promoted to champion by canary {key}: candidate holds against control"
    )
    assert StateStore(world.settings).get(key).status == "decided"


def test_latency_regression_rolls_the_candidate_back(loop_world) -> None:
    world, v1, v2 = loop_world
    key = start_canary(world.settings, {"nlu": int(v1)}, {"nlu": int(v2)}, now=T0).key
    slow = Arm(USERS, latency_ms=2000.0)
    assert run_stages(world, key, slow)[0] == "rolled back"
    assert aliases(client(world.settings), MODEL) == {"champion": v1}
    decision = trace(world.settings, "nlu", v2)["decision"]
    assert decision.startswith(f"rolled back by canary {key}: guardrail broken at 50%")
    assert "latency_p99_ms" in decision
    assert StateStore(world.settings).get(key).status == "stopped"


def test_significantly_worse_candidate_is_rolled_back_early(loop_world) -> None:
    world, v1, v2 = loop_world
    key = start_canary(world.settings, {"nlu": int(v1)}, {"nlu": int(v2)}, now=T0).key
    share = STEPS[0]
    control = round(200 * (1 - share) / share)
    events = planted_events(
        key,
        {"control": Arm(control), "candidate": Arm(200, resolution_rate=0.3)},
        seed=3,
        start=(T0 + timedelta(minutes=1)).replace(tzinfo=None),
    )
    review = review_canary(world.settings, key, events=events, now=T0 + timedelta(hours=1))
    assert review.action == "rolled back" and review.stage == 0
    assert "candidate significantly worse at 50%: resolution_rate" in review.reason
    assert aliases(client(world.settings), MODEL) == {"champion": v1}
    assert trace(world.settings, "nlu", v2)["decision"].startswith(f"rolled back by canary {key}")


def test_undecided_canary_expires_at_its_stop_date(tmp_path: Path, loop_world) -> None:
    world, v1, v2 = loop_world
    template = small_template(tmp_path / "slow.yaml", min_sample_size=10_000)
    settings = world.settings.model_copy(update={"canary_template": template})
    key = start_canary(settings, {"nlu": int(v1)}, {"nlu": int(v2)}, now=T0).key
    world = World(**{**world.__dict__, "settings": settings})
    # too few users for a decision: the canary never leaves the stage both arms share
    assert run_stages(world, key) == ["held", "held"]
    events = stage_events(key, 0)
    waiting = review_canary(settings, key, events=events, now=T0 + timedelta(days=2))
    assert waiting.action == "held" and "not enough users" in waiting.reason
    assert StateStore(settings).get(key).stage == 0
    expired = review_canary(settings, key, events=events, now=T0 + timedelta(days=3, hours=1))
    assert expired.action == "expired" and "not enough users" in expired.reason
    assert aliases(client(settings), MODEL) == {"champion": v1}
    assert trace(settings, "nlu", v2)["decision"].startswith(f"canary {key} expired")
    assert StateStore(settings).get(key).status == "stopped"


def margin_canary(tmp_path: Path, world: World, v1: str, v2: str, margin: float):
    rollout = {
        "steps": STEPS,
        "min_users_per_step": 30,
        "promote_when": "holds",
        "non_inferiority_margin": margin,
    }
    template = small_template(tmp_path / "margin.yaml", rollout=rollout)
    settings = world.settings.model_copy(update={"canary_template": template})
    key = start_canary(settings, {"nlu": int(v1)}, {"nlu": int(v2)}, now=T0).key
    return settings, key


def two_stages(key: str, users: int) -> list[pd.DataFrame]:
    """The events seen at each review: ``users`` per arm at 50 %, then also 40 candidates
    at 100 %."""
    half = planted_events(
        key,
        {"control": Arm(users), "candidate": Arm(users)},
        seed=11,
        start=(T0 + timedelta(minutes=1)).replace(tzinfo=None),
    )
    full = planted_events(
        key,
        {"candidate": Arm(40)},
        seed=12,
        start=(T0 + timedelta(hours=1, minutes=1)).replace(tzinfo=None),
        user_prefix="full",
    )
    return [half, pd.concat([half, full], ignore_index=True)]


def review_both(settings, key: str, seen: list[pd.DataFrame]) -> list[str]:
    return [
        review_canary(settings, key, events=events, now=T0 + timedelta(hours=hour)).action
        for hour, events in enumerate(seen, start=1)
    ]


def test_a_margin_needs_evidence_of_no_harm(tmp_path: Path, loop_world) -> None:
    """With a non-inferiority margin, 40 users an arm cannot show the candidate is within
    0.05 of the champion: no promotion on the absence of evidence."""
    world, v1, v2 = loop_world
    settings, key = margin_canary(tmp_path, world, v1, v2, 0.05)
    seen = two_stages(key, 40)
    assert review_both(settings, key, seen[:1]) == ["held"]
    last = review_canary(settings, key, events=seen[0], now=T0 + timedelta(hours=3))
    assert "not yet 100%: the decision is earned while both arms share" in last.reason
    assert "is not shown to be within 0.05 of control on resolution_rate" in last.reason
    assert aliases(client(settings), MODEL)["champion"] == v1


def test_a_margin_is_met_with_enough_users(tmp_path: Path, loop_world) -> None:
    world, v1, v2 = loop_world
    settings, key = margin_canary(tmp_path, world, v1, v2, 0.1)
    assert review_both(settings, key, two_stages(key, 1500)) == ["advanced", "promoted"]
    assert aliases(client(settings), MODEL) == {"champion": v2}
    assert (
        "every metric is shown within 0.1 of the control" in trace(settings, "nlu", v2)["decision"]
    )


def test_trace_refuses_unknown_steps(loop_world) -> None:
    world, v1, _ = loop_world
    record(world.settings, "nlu", v1, lake_commit="abc", gate="passed")
    assert trace(world.settings, "nlu", v1) == {"lake_commit": "abc", "gate": "passed"}
    with pytest.raises(ValueError, match="unknown loop steps"):
        record(world.settings, "nlu", v1, colour="blue")


DEMO_TEMPLATE = Path(__file__).resolve().parents[2] / "experiments" / "canary_demo.yaml"
BATCH = 40  # callers between two reviews, as the demo loop's traffic sends them


def review_batches(
    settings, key: str, candidate_rate: float, *, max_batches: int = 60
) -> tuple[list[str], int]:
    """Batches of callers split as the canary's current stage says, a review after each,
    until the canary is decided or rolled back: the reviews' actions and the callers."""
    events = pd.DataFrame()
    actions: list[str] = []
    for batch in range(max_batches):
        stage = StateStore(settings).get(key).stage
        share = load_spec(generated_specs_dir(settings) / f"{key}.yaml").weights_at(stage)
        arms = {
            arm: Arm(round(BATCH * weight), resolution_rate=rate)
            for (arm, weight), rate in zip(share.items(), (0.6, candidate_rate), strict=True)
            if weight > 0
        }
        start = T0 + timedelta(minutes=batch + 1)
        fresh = planted_events(
            key, arms, seed=batch, start=start.replace(tzinfo=None), user_prefix=f"b{batch}"
        )
        events = pd.concat([events, fresh], ignore_index=True)
        review = review_canary(settings, key, events=events, now=start + timedelta(seconds=50))
        actions.append(review.action)
        if review.action in ("promoted", "rolled back", "expired"):
            break
    return actions, (batch + 1) * BATCH


def demo_canary(world: World, v1: str, v2: str):
    settings = world.settings.model_copy(update={"canary_template": DEMO_TEMPLATE})
    return settings, start_canary(settings, {"nlu": int(v1)}, {"nlu": int(v2)}, now=T0).key


def test_demo_canary_rolls_back_a_harmful_candidate_before_full_traffic(loop_world) -> None:
    """A candidate whose callers are resolved 0.25 less often (what `demo loop --worse`
    plants) is rolled back at 50 %, never reaching 100 % or champion."""
    world, v1, v2 = loop_world
    settings, key = demo_canary(world, v1, v2)
    actions, callers = review_batches(settings, key, candidate_rate=0.35)
    assert actions[-1] == "rolled back" and "advanced" not in actions, actions
    assert callers <= 600
    assert (
        "candidate significantly worse at 50%: resolution_rate"
        in (trace(settings, "nlu", v2)["decision"])
    )
    assert aliases(client(settings), MODEL)["champion"] == v1


def test_demo_canary_promotes_an_equal_candidate_once_shown_within_its_margin(
    loop_world,
) -> None:
    """Equal arms: held at 50 % until the interval excludes a 0.15 harm, then 100 %, then
    champion, within the demo's budget of callers."""
    world, v1, v2 = loop_world
    settings, key = demo_canary(world, v1, v2)
    actions, callers = review_batches(settings, key, candidate_rate=0.6)
    assert actions[-1] == "promoted", actions
    assert actions.index("advanced") >= 5  # not before ~200 callers an arm
    assert callers <= 1600
    assert aliases(client(settings), MODEL)["champion"] == v2
    assert "shown within 0.15 of the control" in trace(settings, "nlu", v2)["decision"]
