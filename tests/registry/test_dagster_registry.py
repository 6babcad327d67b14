"""The ``registry/<family>`` asset reads the training materialization, registers the model
and reports the gate's verdict as its asset check."""

from __future__ import annotations

import json

from dagster import AssetKey, AssetMaterialization, DagsterInstance, materialize

from orchestration.defs.registry.assets import build_registry_asset
from orchestration.resources.lake import LakeResource
from registry.tracking import client
from tests.registry.conftest import World


def test_register_step_links_mlflow_and_reports_the_gate(
    sqlite_world: World, nlu_good, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("VOICEOPS_HOME", str(sqlite_world.settings.home))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    info = nlu_good.info(sqlite_world.published)
    metadata = {
        "model_path": str(info.model_path),
        "run_dir": str(info.run_dir),
        "lake_commit": info.lake_commit,
        "config": json.dumps(info.config),
        "config_hash": info.config_hash,
        "code_version": info.code_version,
        "fingerprint": "fp-1",
        "data_hash": "d" * 64,
        "data_rows": json.dumps({"train": 10, "test": 4}),
        "scores": json.dumps(info.scores),
    }
    with DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(
            AssetMaterialization(AssetKey(["models", "nlu"]), metadata=metadata)
        )
        result = materialize(
            [build_registry_asset("nlu")],
            instance=instance,
            resources={"lake": LakeResource(home=str(sqlite_world.settings.home))},
        )
    assert result.success
    meta = result.asset_materializations_for_node("registry__nlu")[0].metadata
    version = meta["version"].value
    assert meta["model_uri"].value == f"models:/voicebot-nlu/{version}"
    checks = result.get_asset_check_evaluations()
    assert [c.check_name for c in checks] == ["gate"]
    # the packaged thresholds are a production bar a 6-epoch tiny model does not reach
    assert checks[0].passed is False and meta["gate"].value == "refused"
    registered = client(sqlite_world.settings).get_model_version("voicebot-nlu", version)
    assert registered.run_id == meta["mlflow_run_id"].value
    assert registered.tags["lineage.dagster_run_id"] == result.run_id
    assert registered.tags["lineage.data_hash"] == "d" * 64
    assert "thresholds" in registered.tags["gate.reasons"]


def test_demo_step_registers_what_was_trained_and_prints_the_registry(
    sqlite_world: World, nlu_good, monkeypatch, capsys
) -> None:
    from voiceops.cli.models import register_trained_models

    home = sqlite_world.settings.home
    monkeypatch.setenv("VOICEOPS_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    from orchestration.runs import dagster_instance

    info = nlu_good.info(sqlite_world.published)
    dagster_instance().report_runless_asset_event(
        AssetMaterialization(
            AssetKey(["models", "nlu"]),
            metadata={
                "model_path": str(info.model_path),
                "run_dir": str(info.run_dir),
                "lake_commit": info.lake_commit,
                "config": json.dumps(info.config),
                "config_hash": info.config_hash,
                "fingerprint": "fp-demo",
                "scores": json.dumps(info.scores),
                "marts_manifest_hash": info.marts_manifest_hash,
            },
        )
    )
    register_trained_models()
    out = capsys.readouterr().out
    gate_line = next(line for line in out.splitlines() if "registry gate for nlu" in line)
    assert "refused (REFUSED: " in gate_line and "intent_accuracy[all]" in gate_line
    assert "manifest" not in gate_line and "publish" not in gate_line  # quality only
    assert "Model registry" in out and "voicebot-nlu" in out
    # families with no trained model yet are not registered (their step fails, the rest runs)
    assert "voicebot-stt" not in out
