"""Training end to end: a day with recordings is published, then all four families train
(tiny size) on the published commit; a second run with nothing changed retrains none."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from ingestion.simulator.day import write_day
from training.families import FAMILIES
from versioning.lake import open_lake

pytestmark = pytest.mark.slow
LAKE_REPO = "contact-center"


def test_four_families_train_on_the_published_commit_and_are_kept_when_unchanged(
    settings: Settings,
) -> None:
    from orchestration.runs import audit_and_publish, ingest_day, train_models

    write_day(settings.sources_root, 1, calls=700, seed=11, bad_rate=0.01, audio=True)
    ingest_day(1, open_lake(settings), LAKE_REPO)
    published = audit_and_publish()
    assert published.success, published.summary

    models = train_models("tiny")
    assert set(models) == {"stt", "nlu", "nlg", "tts"}
    for family, metadata in models.items():
        assert metadata["lake_commit"] == published.published_commit, family
        assert metadata["retrained"] is True
        assert Path(metadata["model_path"], "saved_model.pb").is_file(), family
        assert list(Path(metadata["run_dir"], "tensorboard").rglob("events.out.tfevents.*"))
        assert metadata["data_rows"]["train"] > 0
        assert set(metadata["scores"]["test"]) >= {"all", "ru", "en"}, family
        for name in FAMILIES[family].targets:
            assert isinstance(metadata[name], float), (family, name)
    # TTS is scored by the STT model it was trained beside.
    assert models["tts"]["stt_model_fingerprint"] == models["stt"]["fingerprint"]

    again = train_models("tiny")
    assert {family: m["retrained"] for family, m in again.items()} == dict.fromkeys(again, False)
    assert again["stt"]["fingerprint"] == models["stt"]["fingerprint"]
