"""The Kubeflow pipeline's steps run as its pods run them: ``voiceops models data``, ``train``,
``evaluate``, ``register``, one process each, handing JSON files and the run directory on
(NLU, tiny preset, on a published mart of the tuning tests' fixture); the TTS evaluate step
with the STT model it is scored with."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tuning.conftest import (  # noqa: F401  (fixtures)
    home_settings,
    mlflow_uri,
    nlu_rows,
    published,
)

ROOT = Path(__file__).resolve().parents[2]


def _step(settings, tracking_uri: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "VOICEOPS_HOME": str(settings.home),
        "VOICEOPS_LAKE_FSYNC": "false",
        "VOICEOPS_MLFLOW_TRACKING_URI": tracking_uri,
        "MLFLOW_TRACKING_URI": tracking_uri,
        "VOICEOPS_PROGRESS": "0",
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "voiceops.cli", "models", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env=env,
        timeout=600,
    )
    print(f"voiceops models {args[0]}: {time.monotonic() - started:.1f} s")
    return done


@pytest.mark.slow  # four processes, each importing TensorFlow; the gate's smoke test
def test_data_train_evaluate_register_one_process_each(published, mlflow_uri, tmp_path):  # noqa: F811
    settings, commit = published
    out = tmp_path / "outputs"

    data = _step(
        settings, mlflow_uri, "data", "--commit", commit[:12],
        "--output", str(out / "data.json"), "--commit-output", str(out / "commit"),
    )  # fmt: skip
    assert data.returncode == 0, data.stdout + data.stderr
    assert (out / "commit").read_text() == commit
    assert json.loads((out / "data.json").read_text())["lake_commit"] == commit

    run_dir = tmp_path / "artifacts" / "model"  # a KFP output artifact's path
    train = _step(
        settings, mlflow_uri, "train", "nlu", "--commit", commit, "--size", "tiny",
        "--run-dir", str(run_dir), "--output", str(out / "record.json"),
    )  # fmt: skip
    assert train.returncode == 0, train.stdout + train.stderr
    record = json.loads((out / "record.json").read_text())
    assert record["family"] == "nlu" and record["lake_commit"] == commit
    assert (run_dir / "saved_model" / "saved_model.pb").is_file()
    assert json.loads((run_dir / "training_record.json").read_text()) == record
    assert record["scores"]["test"] and record["data_hash"] and record["fingerprint"]

    # the next pods see the run directory at another path: the steps take it as --model
    moved = tmp_path / "elsewhere" / "model"
    moved.parent.mkdir()
    run_dir.rename(moved)
    evaluate = _step(
        settings, mlflow_uri, "evaluate", "--record", str(out / "record.json"),
        "--model", str(moved), "--output", str(out / "evaluation.json"),
    )  # fmt: skip
    assert evaluate.returncode == 0, evaluate.stdout + evaluate.stderr
    evaluation = json.loads((out / "evaluation.json").read_text())
    # the test splits training scored, test_human and the unseen phrasings included
    assert set(evaluation["splits"]) == {s for s in record["scores"] if s.startswith("test")}
    assert "test_human" in evaluation["splits"]
    # the same model on the same rows scores what training recorded
    for split in evaluation["splits"]:
        recorded = record["scores"][split]["all"]["intent_accuracy"]
        scored = evaluation["scores"][split]["all"]["intent_accuracy"]
        assert scored == pytest.approx(recorded, abs=1e-6), split
    # every target has a value now (a missed one is a number, never None: missing)
    assert None not in evaluation["missed_targets"].values()

    register = _step(
        settings, mlflow_uri, "register", "--record", str(out / "record.json"),
        "--model", str(moved), "--evaluation", str(out / "evaluation.json"),
        "--output", str(out / "registration.json"),
    )  # fmt: skip
    assert register.returncode == 0, register.stdout + register.stderr
    registration = json.loads((out / "registration.json").read_text())
    assert registration["model"] == "voicebot-nlu" and registration["version"]
    assert registration["evaluation"]["family"] == "nlu"
    rules = {rule["rule"]: rule for rule in registration["verdict"]["rules"]}
    # the fixture's commit was never audited and published: the gate says so, and the
    # version stays registered (refused), as with the Dagster registry asset
    assert rules["lineage"]["passed"] is False


def _scores_of(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Stand-in scores: every language of ``rows`` and ``all``, the row count as the metric."""
    languages = {"all", *(row["language"] for row in rows)}
    return {lang: {"cer": 0.01 * len(rows), "intent_accuracy": 0.99} for lang in languages}


@pytest.mark.parametrize(
    ("family", "splits", "targets"),
    [
        ("stt", ["test", "test_channel", "test_real"], ["real_cer_ru", "cer_ru"]),
        ("nlu", ["test", "test_human"], ["human_intent_accuracy_ru", "human_intent_accuracy_en"]),
    ],
)
def test_evaluate_scores_the_test_splits_training_scores(
    monkeypatch, tmp_path, family, splits, targets
) -> None:
    """The evaluate step scores what ``Family.scored_splits`` gives a training run (not only
    ``test``), so targets on ``test_real`` / ``test_human`` have values, not None."""
    from training import steps
    from training.families import Family

    rows = [
        {"split": split, "language": lang, "text": f"{split} {lang} {i}", "slots": {}}
        for split in ("train", "validation", "test", "test_channel", "test_real")
        for lang in ("ru", "en")
        for i in range(2)
        if family == "stt" or split in ("train", "validation", "test")
    ]
    seen: dict[int, list[dict]] = {}

    def fake_evaluate(self, model_dir, chosen):
        seen[len(seen)] = chosen
        return _scores_of(chosen)

    monkeypatch.setattr(Family, "load_rows", lambda self, settings, commit: rows)
    monkeypatch.setattr(Family, "evaluate_exported", fake_evaluate)
    record = {"family": family, "lake_commit": "c0ffee", "model_path": str(tmp_path)}
    result = steps.evaluate(None, record)

    assert set(splits) <= set(result["splits"])
    assert not {"train", "validation"} & set(result["splits"])
    assert all(split.startswith("test") for split in result["splits"])
    for split in splits:
        assert result["scores"][split]["ru"]
    for target in targets:
        assert target not in result["missed_targets"]
    if family == "stt":  # each split scored on its own rows
        real = next(chosen for chosen in seen.values() if chosen[0]["split"] == "test_real")
        assert {row["split"] for row in real} == {"test_real"}


@pytest.fixture(scope="module")
def tts_with_stt(tmp_path_factory) -> tuple[Path, Path, list[dict]]:
    """Run directories of a tiny TTS and a tiny STT model (one epoch each), and TTS rows."""
    from training.stt.config import STTConfig
    from training.stt.synthetic import synthetic_rows as stt_rows
    from training.stt.train import train as train_stt
    from training.tts.config import TTSConfig
    from training.tts.export import export
    from training.tts.synthetic import synthetic_rows as tts_rows
    from training.tts.train import train as train_tts

    work = tmp_path_factory.mktemp("tts_steps")
    stt_rows_ = stt_rows(6, seed=1, cache=work / "stt_audio")
    train_stt(stt_rows_, STTConfig.tiny(epochs=1), work / "stt")
    rows = tts_rows(8, work / "tts_audio", seed=3)
    export(
        train_tts(rows, TTSConfig.tiny(epochs=1), work / "tts").serving,
        work / "tts" / "saved_model",
    )
    return work / "tts", work / "stt", rows


def test_tts_evaluate_step_is_scored_with_the_stt_model(monkeypatch, tts_with_stt) -> None:
    """As the Dagster asset scores TTS with the STT model its training used: the step gets
    that model (a pipeline artifact, else the record's path) and scores ``cer_ratio``."""
    from core.errors import InputError
    from training import steps
    from training.families import Family

    tts_run, stt_run, rows = tts_with_stt
    monkeypatch.setattr(Family, "load_rows", lambda self, settings, commit: rows)
    record = {"family": "tts", "lake_commit": "c0ffee", "model_path": "/moved/saved_model"}
    with pytest.raises(InputError, match="tts is scored with the stt model: pass it"):
        steps.evaluate(None, record, tts_run)

    given = steps.evaluate(None, record, tts_run, {"stt": stt_run})
    test = given["scores"]["test"]
    assert test["all"]["n"] > 0
    for language, metrics in test.items():
        if metrics["n"]:
            assert {"cer_tts", "cer_recordings", "cer_ratio"} <= set(metrics), language
    assert given["missed_targets"].get("cer_ratio_all", 0.0) is not None
    # outside a pipeline: the STT model the training run recorded
    recorded = steps.evaluate(
        None, record | {"stt_model_path": str(stt_run / "saved_model")}, tts_run
    )
    assert recorded["scores"] == given["scores"]
    nlu = {"family": "nlu", "lake_commit": "c0ffee", "model_path": str(tts_run)}
    with pytest.raises(InputError, match="nlu is not scored with the stt model"):
        steps.evaluate(None, nlu, tts_run, {"stt": stt_run})


def test_data_refuses_a_commit_that_is_not_published(published, mlflow_uri, tmp_path):  # noqa: F811
    settings, _ = published
    done = _step(settings, mlflow_uri, "data", "--commit", "0" * 12, "--output", str(tmp_path))
    assert done.returncode != 0
    assert "publish that commit first" in done.stdout + done.stderr


def test_a_step_takes_a_run_directory_or_the_savedmodel_itself(tmp_path: Path) -> None:
    from training.steps import saved_model_in

    (tmp_path / "run" / "saved_model").mkdir(parents=True)
    assert saved_model_in(tmp_path / "run") == tmp_path / "run" / "saved_model"
    assert saved_model_in(tmp_path / "run" / "saved_model") == tmp_path / "run" / "saved_model"


def test_tts_chains_the_stt_runs_fingerprint_not_its_path(tmp_path: Path) -> None:
    """As the Dagster asset does: the same STT model at another artifact path is the same
    input, so TTS's fingerprint (and the registry's already-registered check) holds."""
    from training.steps import RECORD, _fingerprint_of, write_json

    for place in ("a", "b"):
        (tmp_path / place / "saved_model").mkdir(parents=True)
        write_json(tmp_path / place / RECORD, {"fingerprint": "stt-fp"})
    assert _fingerprint_of(tmp_path / "a" / "saved_model") == "stt-fp"
    assert _fingerprint_of(tmp_path / "b" / "saved_model") == "stt-fp"


def test_a_record_that_is_not_one_is_a_clear_error(tmp_path: Path) -> None:
    from core.errors import InputError
    from training.steps import read_record

    path = tmp_path / "record.json"
    path.write_text('{"family": "nlu"}')
    with pytest.raises(InputError, match="lacks model_path, lake_commit, scores"):
        read_record(path)
    path.write_text("not json")
    with pytest.raises(InputError, match="not a training record"):
        read_record(path)
