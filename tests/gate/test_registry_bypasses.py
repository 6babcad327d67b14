"""Every way to a champion (or to users) that skips the data guarantee, tried and refused.

Real tiny NLU models, a real lake and the MLflow registry on SQLite (``tests/registry``'s
world: a published commit and a refused one).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from registry.aliases import promote
from registry.errors import RegistryError
from registry.loading import clear_cache, load_model
from registry.register import model_dir, register
from registry.smoke import SmokeLimits, output_problems
from registry.tracking import client
from registry.versions import aliases
from tests.registry.conftest import World, permissive_policy

REPO = "contact-center"


def _register(world: World, trained, commit: str | None = None, policy=None):
    return register(
        trained.family,
        trained.info(commit or world.published),
        settings=world.settings,
        lake=world.lake,
        rows=trained.rows,
        policy=policy or permissive_policy(),
    )


def _forged_publish(world: World) -> str:
    """A merge onto (unprotected) main of the refused commit, claiming to be a publish."""
    return world.lake.merge(
        REPO,
        world.refused,
        "main",
        metadata={"voiceops.kind": "publish", "voiceops.audited_commit": world.refused},
        allow_fast_forward=False,
    ).commit_id


def test_force_never_overrules_the_lineage_rule(sqlite_world: World, nlu_good) -> None:
    """Bypass 6: ``promote --force`` of a version whose data failed the audit."""
    champion = _register(sqlite_world, nlu_good)
    bad = _register(sqlite_world, nlu_good, commit=_forged_publish(sqlite_world))
    assert not bad.verdict.passed
    with pytest.raises(RegistryError, match="lineage does not hold"):
        promote(sqlite_world.settings, "nlu", bad.version, force=True, reason="trust me")
    assert aliases(client(sqlite_world.settings), "voicebot-nlu") == {"champion": champion.version}


def test_editing_the_verdict_tag_does_not_open_the_gate(sqlite_world: World, nlu_good) -> None:
    """Bypass 6: the gate verdict was a mutable MLflow tag."""
    policy = permissive_policy(nlu={"minimum": {"all": {"intent_accuracy": 1.01}}})
    champion = _register(sqlite_world, nlu_good)
    refused = _register(sqlite_world, nlu_good, policy=policy)
    mlflow = client(sqlite_world.settings)
    mlflow.set_model_version_tag("voicebot-nlu", refused.version, "gate.verdict", "passed")
    mlflow.set_model_version_tag("voicebot-nlu", refused.version, "gate.reasons", "")
    with pytest.raises(RegistryError, match="refused by the gate \\(thresholds"):
        promote(sqlite_world.settings, "nlu", refused.version)
    with pytest.raises(RegistryError, match="never promoted"):
        load_model("nlu", version=refused.version, settings=sqlite_world.settings)
    assert aliases(mlflow, "voicebot-nlu") == {"champion": champion.version}
    moved = promote(
        sqlite_world.settings, "nlu", refused.version, force=True, reason="hotfix, approved"
    )
    assert "forced past the gate's thresholds rule" in moved.reason
    clear_cache()
    assert load_model("nlu", version=refused.version, settings=sqlite_world.settings) is not None


def test_an_artifact_changed_after_the_gate_is_neither_promoted_nor_served(
    sqlite_world: World, nlu_good
) -> None:
    first = _register(sqlite_world, nlu_good)
    second = _register(sqlite_world, nlu_good)
    version = client(sqlite_world.settings).get_model_version("voicebot-nlu", second.version)
    stored = model_dir(version, sqlite_world.settings)
    (stored / "fingerprint.pb").write_bytes(b"tampered")
    clear_cache()
    with pytest.raises(RegistryError, match="differs from the one the gate tested"):
        promote(sqlite_world.settings, "nlu", second.version)
    with pytest.raises(RegistryError, match="differs from the one the gate tested"):
        load_model("nlu", version=second.version, settings=sqlite_world.settings)
    assert load_model("nlu", settings=sqlite_world.settings) is not None  # v1 is intact
    assert aliases(client(sqlite_world.settings), "voicebot-nlu")["champion"] == first.version


def test_a_version_the_gate_never_saw_is_not_promoted(sqlite_world: World, nlu_good) -> None:
    registered = _register(sqlite_world, nlu_good)
    mlflow = client(sqlite_world.settings)
    bare = mlflow.create_model_version(
        "voicebot-nlu", registered.source, run_id=registered.run_id
    )  # straight through the MLflow API, no gate
    with pytest.raises(RegistryError, match="no recorded gate verdict"):
        promote(sqlite_world.settings, "nlu", str(bare.version), force=True, reason="x")
    with pytest.raises(RegistryError, match="no recorded gate verdict"):
        load_model("nlu", version=str(bare.version), settings=sqlite_world.settings)


def test_smoke_checks_what_the_model_answers() -> None:
    """Bypass 6: the smoke rule recorded outputs but never checked them."""
    limits = SmokeLimits()
    assert output_problems("nlu", ["block_card", "greeting"], limits) == []
    assert (
        "outside the taxonomy" in output_problems("nlu", ["block_card", "order_pizza"], limits)[0]
    )
    assert "empty responses" in output_problems("nlg", ["Done.", "  "], limits)[0]
    heard = {"references": ["a"], "transcripts": [""], "cer": 1.0}
    assert "CER 1.000 > 0.5" in output_problems("stt", heard, limits)[0]
    assert output_problems("stt", heard | {"cer": 0.1}, limits) == []
    tts = {"sample_rate": 8000, "samples": [16000, 800_000, 16000, 16000],
           "rms": [0.1, 0.1, 0.0, 0.1], "finite": [True, True, True, False]}  # fmt: skip
    problems = output_problems("tts", tts, limits)
    assert len(problems) == 3
    assert "lasts 100.00 s" in problems[0] and "silent" in problems[1] and "NaN" in problems[2]


def test_the_smoke_test_runs_on_the_stored_artifact(sqlite_world: World, nlu_good) -> None:
    """The gate's smoke rule ran on what the registry will hand out, not the local export."""
    done = _register(sqlite_world, nlu_good)
    version = client(sqlite_world.settings).get_model_version("voicebot-nlu", done.version)
    smoke = json.loads(version.tags["gate.smoke"])
    assert smoke["ok"] and len(smoke["outputs"]) == 4
    stored = model_dir(version, sqlite_world.settings)
    assert stored != Path(nlu_good.model_path) and (stored / "saved_model.pb").is_file()
