"""Each gate rule refuses what it should; a refused version stays registered, visibly."""

from __future__ import annotations

import shutil

import pytest

from registry.gate import regressions, rule_champion, rule_thresholds
from registry.policy import FamilyPolicy
from registry.register import register
from registry.smoke import smoke_test
from registry.tracking import client
from registry.versions import aliases
from tests.registry.conftest import World, permissive_policy


def _register(world: World, trained, commit: str | None = None, rows=None, policy=None):
    return register(
        trained.family,
        trained.info(commit or world.published),
        settings=world.settings,
        lake=world.lake,
        rows=trained.rows if rows is None else rows,
        policy=policy or permissive_policy(),
    )


def _refused_only_by(world: World, done, rule: str) -> str:
    """Only ``rule`` failed, and the version is registered and tagged refused."""
    assert not done.verdict.passed
    failed = [r.rule for r in done.verdict.rules if not r.passed]
    assert failed == [rule], done.verdict.reasons
    version = client(world.settings).get_model_version(done.model, done.version)
    assert version.tags["gate.verdict"] == "refused"
    assert rule in version.tags["gate.reasons"]
    return version.tags["gate.reasons"]


def test_rule1_refuses_a_commit_off_main_and_a_forged_publish_of_failed_checks(
    sqlite_world, nlu_good
) -> None:
    done = _register(sqlite_world, nlu_good, commit=sqlite_world.refused)
    assert "not in the history of main" in _refused_only_by(sqlite_world, done, "lineage")
    # main left unprotected here: a merge of the refused commit that claims to be a publish
    forged = sqlite_world.lake.merge(
        "contact-center",
        sqlite_world.refused,
        "main",
        metadata={"voiceops.kind": "publish", "voiceops.audited_commit": sqlite_world.refused},
        allow_fast_forward=False,
    )
    done = _register(sqlite_world, nlu_good, commit=forged.commit_id)
    reasons = _refused_only_by(sqlite_world, done, "lineage")
    assert "did not pass" in reasons and "no_pii" in reasons
    assert aliases(client(sqlite_world.settings), "voicebot-nlu") == {}  # refused: no alias at all


def test_rule2_refuses_metrics_under_the_thresholds(sqlite_world, nlu_good) -> None:
    policy = permissive_policy(nlu={"minimum": {"en": {"intent_accuracy": 1.01}}})
    done = _register(sqlite_world, nlu_good, policy=policy)
    assert "intent_accuracy[en]" in _refused_only_by(sqlite_world, done, "thresholds")


def test_rule3_refuses_a_regression_scoring_the_champion_on_the_new_test_split(
    sqlite_world, nlu_good, nlu_untrained
) -> None:
    from training.nlu.evaluate import evaluate_exported
    from training.nlu.synthetic import synthetic_rows

    champion = _register(sqlite_world, nlu_good)
    assert champion.aliases == {"champion": champion.version}
    other_rows = synthetic_rows(6, seed=11)  # another test split: the champion is re-scored
    done = _register(sqlite_world, nlu_untrained, rows=other_rows)
    assert "regresses against champion v1" in _refused_only_by(sqlite_world, done, "champion")
    rescored = evaluate_exported(
        nlu_good.model_path, [r for r in other_rows if r["split"] == "test"]
    )
    assert done.verdict.champion_scores["all"]["intent_accuracy"] == pytest.approx(
        rescored["all"]["intent_accuracy"]
    )
    assert done.aliases == {"champion": champion.version}  # unchanged


def test_rule4_refuses_over_the_latency_budget_and_a_broken_artifact(
    sqlite_world, nlu_good, tmp_path
) -> None:
    done = _register(sqlite_world, nlu_good, policy=permissive_policy(nlu={"latency_budget_ms": 0}))
    assert "> budget 0 ms" in _refused_only_by(sqlite_world, done, "smoke")
    broken = tmp_path / "broken"
    shutil.copytree(nlu_good.model_path, broken)
    shutil.rmtree(broken / "variables")
    result = smoke_test("nlu", broken, 60000, repeats=1, timeout_s=120)
    assert not result.ok and "failed in a fresh process" in result.reason


def test_directions_and_ceilings_without_training() -> None:
    stt = FamilyPolicy(
        metrics={"cer": "lower", "wer": "lower"}, maximum={"all": {"cer": 0.2}}, tolerance=0.01
    )
    assert regressions({"all": {"cer": 0.30}}, {"all": {"cer": 0.25}}, stt) == [
        "cer[all] 0.3000 vs champion 0.2500"
    ]
    assert regressions({"all": {"cer": 0.20}}, {"all": {"cer": 0.25}}, stt) == []
    assert not rule_thresholds({"all": {"cer": 0.21}}, stt).passed
    assert rule_thresholds({"all": {"cer": 0.19}}, stt).passed
    assert "missing" in rule_thresholds({"ru": {"cer": 0.1}}, stt).reason
    assert rule_champion({"all": {"cer": 0.5}}, None, None, stt).passed
