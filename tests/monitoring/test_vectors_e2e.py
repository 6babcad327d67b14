"""The vector index over the real pipeline: a published day (real dbt build), a tiny NLU
trained on its mart and registered as champion, then ``voiceops explain``,
``voiceops monitor duplicates`` and, after a second day is published, the champion's
embedding drift in the drift report and ``monitor status``."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.settings import Settings
from ingestion.simulator.day import write_day
from tests.pipeline_days import LAKE_REPO, publish_day
from versioning.lake import open_lake

pytestmark = pytest.mark.slow


def register_trained_champion(home: Settings, commit: str, root: Path) -> str:
    """Train a tiny NLU on the mart at ``commit``, register it, make it champion."""
    from registry.register import register
    from registry.tracking import client
    from registry.training_info import TrainingInfo
    from tests.registry.conftest import permissive_policy
    from training.common.data import published_build, read_mart
    from training.common.scores import flat_scores
    from training.nlu.config import NLUConfig
    from training.nlu.export import export
    from training.nlu.train import train

    rows = read_mart(home, "nlu_examples", commit=commit)
    config = NLUConfig.tiny(epochs=6)
    result = train(rows, config, root)
    info = TrainingInfo(
        model_path=export(result.serving, root / "saved_model"),
        lake_commit=commit,
        config=config.to_dict(),
        config_hash=config.config_hash(),
        code_version="code-v1",
        scores=flat_scores(result.metrics),
        run_dir=root,
        dagster_run_id="run-1",
        history={"loss": [1.0]},
        marts_manifest_hash=published_build(home).manifest_hash,
    )
    done = register(
        "nlu",
        info,
        settings=home,
        lake=open_lake(home),
        rows=rows,
        policy=permissive_policy(),
    )
    client(home).set_registered_model_alias("voicebot-nlu", "champion", done.version)
    return done.version


def invoke(*args: str) -> str:
    from voiceops.cli import app

    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def test_explain_duplicates_and_embedding_drift_of_a_registered_champion(
    pipeline_settings: Settings, tmp_path: Path
) -> None:
    settings = pipeline_settings
    from monitoring.drift_report import compute_drift, save_report
    from orchestration.runs import audit_and_publish, ingest_day
    from training.common.data import read_mart

    commit = publish_day(settings)
    version = register_trained_champion(settings, commit, tmp_path / "nlu")
    rows = read_mart(settings, "nlu_examples", commit=commit)
    train_ru = next(r for r in rows if r["split"] == "train" and r["language"] == "ru")

    explained = json.loads(invoke("explain", train_ru["text"], "--k", "3", "--json"))
    assert explained["version"] == version and explained["lake_commit"] == commit
    assert explained["language"] == "ru"
    assert explained["decision"]["intent"] and 0 <= explained["decision"]["confidence"] <= 1
    nearest = explained["neighbours"]
    assert len(nearest) == 3 and nearest[0]["text"] == train_ru["text"]
    assert nearest[0]["intent"] == train_ru["intent"] and nearest[0]["similarity"] > 0.999
    text = invoke("explain", "block my card", "--k", "2")
    assert f"voicebot-nlu v{version} (en): intent" in text
    assert "nearest training examples" in text and len(text.splitlines()) == 4

    duplicates = json.loads(invoke("monitor", "duplicates", "--threshold", "-1", "--json"))
    tests = {
        lang: sum(r["split"] == "test" and r["language"] == lang for r in rows)
        for lang in ("ru", "en")
    }
    assert {lang: e["held_out"] for lang, e in duplicates["languages"].items()} == tests
    # at the loosest threshold every test row has a nearest train row
    assert {lang: e["duplicates"] for lang, e in duplicates["languages"].items()} == tests
    strict = invoke("monitor", "duplicates", "--threshold", "1")
    assert "test rows with a train row at cosine >= 1.0" in strict and "ru: " in strict

    report = compute_drift(settings, timedelta(hours=1), min_values=10)
    assert report.embedding["note"] == "no utterances published since the champion's commit"
    assert not [s for s in report.scores if s.method == "novelty"]

    write_day(settings.sources_root, 2, calls=400, seed=22, bad_rate=0.0, audio=False)
    ingest_day(2, open_lake(settings), LAKE_REPO)
    outcome = audit_and_publish(echo_dbt_log=False)
    assert outcome.success and outcome.published_commit != commit, outcome.summary

    report = compute_drift(settings, timedelta(hours=1), min_values=10)
    assert report.embedding["published_commit"] == outcome.published_commit
    assert report.embedding["new_utterances"] > 20, report.embedding
    novelty = {s.language: s for s in report.scores if s.method == "novelty"}
    assert set(novelty) == {"ru", "en"}, report.embedding
    for score in novelty.values():
        assert score.family == "nlu" and score.feature == "utterance_embedding"
        assert 0.0 <= score.score <= 1.0 and score.production_count >= 10
    save_report(settings, report)
    status = invoke("monitor", "status")
    assert "utterance_embedding[ru] novelty" in status
