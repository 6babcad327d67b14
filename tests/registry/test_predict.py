"""``load_model`` and ``voiceops predict`` give what the in-process model gives; cached loads;
``reproduce`` retrains a version from its recorded commit + config within tolerance."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from registry import load_model, resolve
from registry.loading import clear_cache
from registry.register import register
from registry.reproduce import reproduce
from tests.registry.conftest import World, permissive_policy
from voiceops.cli import app

TEXTS = ["Заблокируйте карту 4321, пожалуйста.", "What's the dollar exchange rate?"]


def _env(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICEOPS_HOME", str(world.settings.home))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def test_load_model_and_cli_predict_equal_the_in_process_models(
    sqlite_world: World, nlu_good, nlg_trained, monkeypatch
) -> None:
    from training.nlg.export import predict as nlg_predict
    from training.nlu.export import predict as nlu_predict

    policy = permissive_policy()
    for trained in (nlu_good, nlg_trained):
        done = register(
            trained.family,
            trained.info(sqlite_world.published),
            settings=sqlite_world.settings,
            lake=sqlite_world.lake,
            rows=trained.rows,
            policy=policy,
        )
        assert done.aliases == {"champion": done.version}, done.verdict.reasons
    clear_cache()
    model = load_model("nlu", settings=sqlite_world.settings)
    assert load_model("nlu", "champion", settings=sqlite_world.settings) is model  # cached
    here = nlu_predict(nlu_good.serving, TEXTS)
    loaded = nlu_predict(model, TEXTS)
    assert [p["intent"] for p in loaded] == [p["intent"] for p in here]
    assert [p["tags"] for p in loaded] == [p["tags"] for p in here]
    assert resolve("nlu", "@champion", sqlite_world.settings).verdict == "passed"

    _env(sqlite_world, monkeypatch)
    result = CliRunner().invoke(app, ["predict", "nlu@champion", TEXTS[0]])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["model"] == "voicebot-nlu" and out["version"] == "1"
    assert out["output"]["intent"] == here[0]["intent"]
    assert out["output"]["slots"] == here[0]["slots"]
    assert out["output"]["confidence"] == pytest.approx(here[0]["confidence"], abs=1e-5)

    request = {"language": "ru", "intent": "block_card", "slots": {"card_last4": "4321"}}
    result = CliRunner().invoke(app, ["predict", "nlg:1", json.dumps(request)])
    assert result.exit_code == 0, result.stderr
    assert (
        json.loads(result.stdout)["output"]["text"]
        == nlg_predict(nlg_trained.serving, [request])[0]
    )
    bad = CliRunner().invoke(app, ["predict", "nlu:7", "hello"])
    assert bad.exit_code == 1 and bad.stderr.strip() == "error: voicebot-nlu has no version 7"


def test_reproduce_retrains_from_the_recorded_commit_and_config(sqlite_world, nlu_good) -> None:
    done = register(
        "nlu",
        nlu_good.info(sqlite_world.published),
        settings=sqlite_world.settings,
        lake=sqlite_world.lake,
        rows=nlu_good.rows,
        policy=permissive_policy(),
    )
    asked: list[str] = []

    def rows_at(fam, commit: str) -> list[dict]:
        asked.append(commit)
        return nlu_good.rows

    result = reproduce(sqlite_world.settings, "nlu", done.version, rows_loader=rows_at)
    assert asked == [sqlite_world.published]
    assert result.data_hash_matches is True
    assert "intent_accuracy[all]" in result.differences
    assert result.ok, result.lines()
