"""Each gate rule refuses what it should; a refused version stays registered, visibly."""

from __future__ import annotations

import shutil

import pytest

from registry.aliases import promote
from registry.errors import RegistryError
from registry.gate import rule_champion, rule_thresholds
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


def test_rule3_refuses_what_the_bootstrap_finds_worse_rescoring_the_champion(
    sqlite_world, nlu_strong, nlu_untrained
) -> None:
    from training.nlu.evaluate import evaluate_exported

    champion = _register(sqlite_world, nlu_strong)
    assert champion.aliases == {"champion": champion.version}
    done = _register(sqlite_world, nlu_untrained)  # the champion is re-run on these rows
    reasons = _refused_only_by(sqlite_world, done, "champion")
    assert "significantly worse than champion v1 on intent_accuracy[all]" in reasons
    rescored = evaluate_exported(
        nlu_strong.model_path, [r for r in nlu_untrained.rows if r["split"] == "test"]
    )
    result = done.verdict.champion_comparison["results"]["intent_accuracy"]["all"]
    assert result["champion"] == pytest.approx(rescored["all"]["intent_accuracy"])
    assert result["ci_high"] < 0 and result["verdict"] == "worse"
    assert done.aliases == {"champion": champion.version}  # unchanged


def test_rule3_passes_an_equal_model_as_challenger_that_does_not_beat_the_champion(
    sqlite_world, nlu_good
) -> None:
    champion = _register(sqlite_world, nlu_good)
    again = _register(sqlite_world, nlu_good)  # the same model, registered once more
    assert again.verdict.passed
    report = again.verdict.champion_comparison
    assert report["worse"] == [] and report["better"] == []
    version = client(sqlite_world.settings).get_model_version("voicebot-nlu", again.version)
    assert version.tags["gate.beats_champion"] == "false"
    assert again.aliases == {"champion": champion.version, "challenger": again.version}
    settings = sqlite_world.settings
    with pytest.raises(RegistryError, match="does not beat champion v1"):
        promote(settings, "nlu", again.version)
    moved = promote(settings, "nlu", again.version, force=True, reason="same model, new data")
    assert moved.reason.startswith("forced: does not beat champion v1")


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


def test_ceilings_and_the_champion_rule_without_training() -> None:
    stt = FamilyPolicy(metrics={"cer": "lower", "wer": "lower"}, maximum={"all": {"cer": 0.2}})
    assert not rule_thresholds({"all": {"cer": 0.21}}, stt).passed
    assert rule_thresholds({"all": {"cer": 0.19}}, stt).passed
    assert "missing" in rule_thresholds({"ru": {"cer": 0.1}}, stt).reason
    assert rule_champion(None, None).passed
    report = {"family_confidence": 0.95, "compared": ["cer"], "better": [], "worse": ["cer[ru]"]}
    refused = rule_champion(report, "3")
    assert not refused.passed and "worse than champion v3 on cer[ru]" in refused.reason
    assert rule_champion(report | {"worse": [], "better": ["cer[all]"]}, "3").passed
