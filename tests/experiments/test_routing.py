"""Routing: only running experiments within their dates take traffic, the same user gets the
same arm from a new Router (a restart), a canary routes by its stage, state is cached."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

from core.settings import Settings
from experiments.routing import CHAMPIONS, Route, Router
from experiments.state import StateStore
from tests.experiments.test_state import write_spec

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 12, 8)
USERS = [f"caller-{i}" for i in range(2000)]


def world(tmp_path: Path) -> tuple[Settings, Path, StateStore]:
    specs = tmp_path / "specs"
    write_spec(specs, "ab")
    write_spec(
        specs,
        "canary",
        arms={"control": {"nlg": 1}, "candidate": {"nlg": 2}},
        namespace={"id": "nlg", "start": 0.0, "end": 1.0},
        rollout={"steps": [0.05, 0.5, 1.0], "min_users_per_step": 10},
    )
    settings = Settings(home=tmp_path / "home")
    return settings, specs, StateStore(settings, specs)


def test_only_running_experiments_take_traffic(tmp_path: Path) -> None:
    settings, specs, store = world(tmp_path)
    router = Router(settings, specs, refresh_s=0)
    assert router.route("caller-1", DAY) == CHAMPIONS == Route(None, None, {})
    store.start("ab", datetime(2026, 12, 7, tzinfo=UTC), check_registry=False)
    route = router.route("caller-1", DAY)
    assert route.experiment == "ab" and route.versions == {
        "nlu": 1 if route.arm == "control" else 2
    }
    assert router.route("caller-1", date(2026, 12, 21)) == CHAMPIONS  # after its stop date
    assert router.route("caller-1", date(2026, 12, 6)) == CHAMPIONS  # before its start
    assert router.route("", DAY) == CHAMPIONS
    store.stop("ab", "done")
    assert all(router.route(u, DAY) == CHAMPIONS for u in USERS[:200])


def test_same_arm_from_a_new_router_and_a_new_process(tmp_path: Path) -> None:
    settings, specs, store = world(tmp_path)
    store.start("ab", datetime(2026, 12, 7, tzinfo=UTC), check_registry=False)
    before, after = Router(settings, specs), Router(settings, specs)  # a restart
    first = [before.route(u, DAY).arm for u in USERS]
    second = [after.route(u, DAY).arm for u in USERS]
    assert first == second and set(first) == {"control", "treatment"}
    code = (
        "import json; from datetime import date; from pathlib import Path\n"
        "from core.settings import Settings; from experiments.routing import Router\n"
        f"r = Router(Settings(home=Path({str(settings.home)!r})), Path({str(specs)!r}))\n"
        "print(json.dumps([r.route(f'caller-{i}', date(2026, 12, 8)).arm for i in range(2000)]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == __import__("json").dumps(first)


def test_canary_routes_by_its_stage(tmp_path: Path) -> None:
    settings, specs, store = world(tmp_path)
    store.start("canary", datetime(2026, 12, 7, tzinfo=UTC), check_registry=False)
    router = Router(settings, specs)
    arms = Counter(router.route(u, DAY).arm for u in USERS)
    assert 40 < arms["candidate"] < 180 and arms["candidate"] + arms["control"] == 2000
    store.set_stage("canary", 2, "all in")
    router.refresh()
    assert {router.route(u, DAY).versions["nlg"] for u in USERS[:300]} == {2}


def test_state_is_reread_at_most_every_refresh_s(tmp_path: Path) -> None:
    settings, specs, store = world(tmp_path)
    clock = [0.0]
    router = Router(settings, specs, refresh_s=5.0, clock=lambda: clock[0])
    assert router.route("caller-1", DAY) == CHAMPIONS
    store.start("ab", datetime(2026, 12, 7, tzinfo=UTC), check_registry=False)
    clock[0] = 4.9
    assert router.route("caller-1", DAY) == CHAMPIONS  # cached
    clock[0] = 5.0
    assert router.route("caller-1", DAY).experiment == "ab"


def test_routing_imports_no_heavy_library() -> None:
    code = (
        "import sys, experiments.routing\n"
        "print(sorted(m for m in ('tensorflow', 'mlflow', 'pandas', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
