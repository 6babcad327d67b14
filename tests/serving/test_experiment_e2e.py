"""An experiment end to end on the API: registered NLU versions pinned per arm, simulated
callers with a planted effect, events, analysis, and the decision through the registry.

* equal arms -> "no decision", the champion stays;
* a planted better arm -> it wins and its version becomes the champion;
* an arm whose version can no longer be loaded (artifact tampered) is served by the
  champion, and every such turn says so (``fallback``).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from ingestion.simulator.day import write_day
from registry.register import register
from tests.registry.conftest import World, permissive_policy
from tests.serving.conftest import VERSION

TODAY = date.today()
USERS = 120


def _spec(specs: Path, key: str, min_users: int) -> None:
    spec = {
        "key": key,
        "arms": {"control": {"nlu": 1}, "candidate": {"nlu": 2}},
        "start": (TODAY - timedelta(days=1)).isoformat(),
        "stop": (TODAY + timedelta(days=30)).isoformat(),
        "metrics": [{"name": "resolution_rate", "better": "higher"}],
        "guardrails": {"latency_p99_ms": 60_000, "error_rate": 0.05, "handoff_rate": 1.0},
        "min_sample_size": min_users,
    }
    (specs / f"{key}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")


@pytest.fixture
def experiment_world(sqlite_world: World, nlu_good, tmp_path):
    """Two registered, gated NLU versions of the same model (equal quality), a CRM with
    enough customers, and an empty specs folder."""
    policy = permissive_policy()
    for _ in range(2):
        done = register(
            "nlu",
            nlu_good.info(sqlite_world.published),
            settings=sqlite_world.settings,
            lake=sqlite_world.lake,
            rows=nlu_good.rows,
            policy=policy,
        )
        assert done.verdict.passed, done.verdict.reasons
    sources = tmp_path / "sources"
    write_day(sources, 1, calls=400, seed=9, bad_rate=0.0, audio=False)
    specs = tmp_path / "specs"
    specs.mkdir()
    settings = sqlite_world.settings.model_copy(update={"sources_dir": sources})
    return settings, specs


def _serve(settings, specs, tiny_models, bank_url):
    """A worker whose NLU versions come from the registry; the other families' champions
    are the tiny models."""
    from experiments.routing import Router
    from serving.app_state import ServingState, connect
    from serving.options import ServingOptions

    state = ServingState(settings, ServingOptions(bank_url=bank_url, min_confidence=0.0))
    for name in ("stt", "nlg", "tts"):
        state.pool.install(name, VERSION, tiny_models.models[name], champion=True)
    assert state.pool.ensure("nlu", "1") is not None, state.pool.failures
    state.pool.champions["nlu"] = "1"
    return connect(state, Router(settings, specs, refresh_s=0.0))


def _wait_warm(state) -> dict:
    """Readiness once every running arm's versions are loaded or refused (until then the
    worker serves the champions outside the experiment)."""
    import time

    deadline = time.monotonic() + 120
    while not (report := state.readiness())["ready"]:
        assert time.monotonic() < deadline, report
        time.sleep(0.2)
    return report


def _traffic(url: str, settings, effect: float, seed: int):
    from serving.traffic import TrafficGenerator, TrafficPlan

    plan = TrafficPlan(USERS, 1, seed=seed, effect=effect, effect_arm="candidate", concurrency=8)
    return TrafficGenerator(url, plan, settings.sources_root, TODAY).run()


def _champion(settings) -> str:
    from registry.loading import resolve

    return resolve("nlu", settings=settings).version


def test_equal_arms_give_no_decision_and_a_planted_effect_is_promoted(
    experiment_world, tiny_models, bank_url
) -> None:
    from experiments.decision import decide
    from experiments.state import StateStore
    from serving.api import ThreadedServer, create_app

    settings, specs = experiment_world
    _spec(specs, "nlu-equal", 40)
    _spec(specs, "nlu-better", 40)
    store = StateStore(settings, specs)
    state = _serve(settings, specs, tiny_models, bank_url)
    with ThreadedServer(create_app(settings, state.options, state=state)) as server:
        store.start("nlu-equal")
        _wait_warm(state)
        equal = _traffic(server.url, settings, effect=0.0, seed=1)
        assert not equal.errors and set(equal.by_arm) == {"control", "candidate"}
        state.events.flush(30)
        verdict = decide(settings, "nlu-equal", specs_dir=specs)
        assert not verdict.decided, verdict.reason
        assert _champion(settings) == "1"
        store.stop("nlu-equal", "no decision")

        store.start("nlu-better")
        _wait_warm(state)
        better = _traffic(server.url, settings, effect=0.35, seed=2)
        assert not better.errors
        state.events.flush(30)
        verdict = decide(settings, "nlu-better", specs_dir=specs)
    state.close()
    assert verdict.decided and verdict.winner == "candidate", verdict.reason
    assert _champion(settings) == "2"
    served = better.summary()["arms"]
    assert served["candidate"]["resolved"] > served["control"]["resolved"]


def test_an_arm_whose_version_cannot_load_falls_back_to_the_champion(
    experiment_world, tiny_models, bank_url
) -> None:
    from experiments.state import StateStore
    from registry.aliases import trusted_verdict
    from registry.errors import RegistryError
    from registry.loading import clear_cache, resolve
    from registry.mlflow_model import stored_model
    from serving.api import ThreadedServer, create_app

    settings, specs = experiment_world
    _spec(specs, "nlu-broken", 10)
    StateStore(settings, specs).start("nlu-broken")
    version_two = resolve("nlu", "2", settings).version_info
    stored = Path(stored_model(version_two, settings))
    (stored / "tampered.txt").write_text("changed after the gate tested it")
    with pytest.raises(RegistryError, match="artifact"):
        trusted_verdict(settings, version_two)
    clear_cache()
    state = _serve(settings, specs, tiny_models, bank_url)
    with ThreadedServer(create_app(settings, state.options, state=state)) as server:
        ready = _wait_warm(state)
        report = _traffic(server.url, settings, effect=0.0, seed=3)
    assert not report.errors
    assert "nlu v2" in ready["failed"] and "artifact" in ready["failed"]["nlu v2"].lower()
    state.events.flush(30)
    frame = state.events.store.read_frame(experiment="nlu-broken")
    state.close()
    turns = frame[frame["kind"] == "turn"]
    candidate = turns[turns["arm"] == "candidate"]
    assert len(candidate) > 0 and candidate["fallback"].all()
    assert all(json.loads(v)["nlu"] == "1" for v in candidate["versions"])
    assert not turns[turns["arm"] == "control"]["fallback"].any()
