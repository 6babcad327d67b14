"""Registration: an MLflow run with artifacts, a version with complete lineage, aliases."""

from __future__ import annotations

import json
from pathlib import Path

from mlflow.artifacts import download_artifacts

from registry.register import LINEAGE_TAGS, register
from registry.tracking import client
from registry.versions import CHALLENGER, CHAMPION, aliases
from tests.registry.conftest import MANIFEST, World, permissive_policy


def test_register_records_run_artifacts_and_complete_lineage(world: World, nlu_good) -> None:
    policy = permissive_policy()
    done = register(
        "nlu",
        nlu_good.info(world.published),
        settings=world.settings,
        lake=world.lake,
        rows=nlu_good.rows,
        policy=policy,
    )
    assert done.verdict.passed, done.verdict.reasons
    assert done.model == "voicebot-nlu"
    mlflow = client(world.settings)
    version = mlflow.get_model_version("voicebot-nlu", done.version)
    tags = version.tags
    assert all(tags.get(key) for key in LINEAGE_TAGS), [k for k in LINEAGE_TAGS if not tags.get(k)]
    assert tags["lineage.lake_commit"] == world.published
    assert tags["lineage.audited_commit"] != world.published  # the ingest head it audited
    assert tags["lineage.dbt_manifest_hash"] == MANIFEST
    assert tags["lineage.verified"] == "true"
    assert tags["lineage.checks_passed"].split(",") == ["no_pii", "not_null_calls_id"]
    assert tags["lineage.ingestion_runs"] == "run1"
    counts = json.loads(tags["lineage.data_rows"])
    assert sum(counts.values()) == len(nlu_good.rows) and counts["test"] > 0
    assert len(tags["lineage.data_hash"]) == 64
    assert tags["lineage.config_hash"] == nlu_good.config.config_hash()
    assert tags["lineage.dagster_run_id"] == "dagster-run-1"
    assert tags["lineage.champion_compared"] == "none"
    assert tags["gate.verdict"] == "passed"
    run = mlflow.get_run(done.run_id)
    assert run.data.params["epochs"] == "6"
    assert (
        run.data.metrics["test/all/intent_accuracy"]
        == nlu_good.scores["test"]["all"]["intent_accuracy"]
    )
    listed = {a.path for a in mlflow.list_artifacts(done.run_id)}
    assert {"tensorboard", "figures", "lineage.json"} <= listed
    figures = {a.path for a in mlflow.list_artifacts(done.run_id, "figures")}
    assert "figures/curves.png" in figures
    # the version is the run's MLflow model: the pyfunc flavor around the SavedModel
    (output,) = run.outputs.model_outputs
    logged = mlflow.get_logged_model(output.model_id)
    assert logged.source_run_id == done.run_id and version.source == logged.artifact_location
    local = Path(download_artifacts(artifact_uri=version.source))
    assert (local / "MLmodel").is_file() and (local / "input_example.json").is_file()
    assert (local / "artifacts" / "saved_model" / "saved_model.pb").is_file()
    lineage = json.loads(Path(mlflow.download_artifacts(done.run_id, "lineage.json")).read_text())
    sources = lineage["lake"]["ingestion_runs"][0]["sources"]
    assert sources[0]["source"] == "crm" and sources[0]["records"] == 12
    # the first version to pass becomes champion; the next passing one challenger
    assert aliases(mlflow, "voicebot-nlu") == {CHAMPION: done.version}
    again = register(
        "nlu",
        nlu_good.info(world.published),
        settings=world.settings,
        lake=world.lake,
        rows=nlu_good.rows,
        policy=policy,
    )
    assert again.verdict.passed, again.verdict.reasons
    assert again.aliases == {CHAMPION: done.version, CHALLENGER: again.version}
    second = mlflow.get_model_version("voicebot-nlu", again.version)
    assert second.tags["lineage.champion_compared"] == done.version
