"""Lineage helpers: the training data's identity and the run fingerprint."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from training.common.lineage import (
    SHARED_CODE,
    TRAINING_DIR,
    canonical_order,
    code_version,
    fingerprint,
    rows_hash,
    split_counts,
)
from training.common.run import curves_table
from training.common.scores import by_language, flat_metrics
from training.stt.config import STTConfig

ROWS = [
    {"id": 1, "text": "привет", "split": "train", "audio_path": "raw/a.wav", "audio": np.ones(4)},
    {"id": 2, "text": "hello", "split": "test", "audio_path": "raw/b.wav", "audio": np.zeros(4)},
]


def test_rows_hash_ignores_order_and_decoded_payloads_but_not_content() -> None:
    same = [dict(ROWS[1], audio=np.arange(9)), dict(ROWS[0])]
    assert rows_hash(ROWS) == rows_hash(same)
    changed = [dict(ROWS[0], text="пока"), ROWS[1]]
    assert rows_hash(changed) != rows_hash(ROWS)
    moved = [dict(ROWS[0], audio_path="raw/c.wav"), ROWS[1]]
    assert rows_hash(moved) != rows_hash(ROWS)


def test_canonical_order_is_the_same_for_any_order_the_engine_returns() -> None:
    rows = [{"id": i, "text": t, "slots": {"b": 1, "a": i}} for i, t in enumerate("cabd")]
    ordered = canonical_order(rows)
    assert canonical_order(list(reversed(rows))) == ordered
    assert canonical_order(rows[2:] + rows[:2]) == ordered
    assert sorted(r["id"] for r in ordered) == [0, 1, 2, 3]


def test_split_counts_and_fingerprint() -> None:
    assert split_counts(ROWS) == {"test": 1, "train": 1}
    assert fingerprint("d", "c", "v") == fingerprint("d", "c", "v")
    assert fingerprint("d", "c", "v") != fingerprint("d", "c", "w")


def _family_package(root: Path) -> Path:
    """A family package with code, a hand-written YAML test set and a README."""
    (root / "human").mkdir(parents=True)
    (root / "train.py").write_text("EPOCHS = 3\n", encoding="utf-8")
    (root / "human" / "en.yaml").write_text("- text: hello\n", encoding="utf-8")
    (root / "README.md").write_text("# A family\n", encoding="utf-8")
    return root


def test_code_version_changes_with_data_files_not_with_docs_or_caches(tmp_path: Path) -> None:
    package = _family_package(tmp_path / "family")
    version = code_version(package)
    (package / "README.md").write_text("# A family, documented\n", encoding="utf-8")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "train.cpython-311.pyc").write_bytes(b"\x00")
    (package / ".notes.yaml").write_text("x: 1\n", encoding="utf-8")
    assert code_version(package) == version, "docs, caches and hidden files are not code"
    (package / "human" / "en.yaml").write_text("- text: hi\n", encoding="utf-8")
    assert code_version(package) != version, "an edit of the YAML test set is a new version"


def test_code_version_is_the_same_in_any_checkout(tmp_path: Path) -> None:
    here = code_version(_family_package(tmp_path / "one"))
    there = _family_package(tmp_path / "elsewhere" / "two")
    (there / "train.py").write_bytes(b"EPOCHS = 3\r\n")  # a Windows checkout
    assert code_version(there) == here
    (there / "human" / "en.yaml").rename(there / "human" / "ru.yaml")
    assert code_version(there) != here, "a file's path inside the package counts"


def _training_copy(root: Path) -> Path:
    """A copy of ``training/``'s shared code and two family packages under ``root``."""
    for name in (*SHARED_CODE, "stt", "nlu"):
        source = TRAINING_DIR / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, root / name)
    return root


@pytest.mark.parametrize("shared", ["families.py", "steps.py", "common/scores.py"])
def test_an_edit_of_the_shared_training_code_is_a_new_version_of_every_family(
    tmp_path: Path, shared: str
) -> None:
    training = _training_copy(tmp_path / "training")
    before = {name: code_version(training / name, training) for name in ("stt", "nlu")}
    assert before == {name: code_version(TRAINING_DIR / name) for name in ("stt", "nlu")}
    with (training / shared).open("a", encoding="utf-8") as edited:
        edited.write("\n# scored differently now\n")
    for name, version in before.items():
        assert code_version(training / name, training) != version, f"{shared} edit, {name}"


def test_another_familys_edit_is_not_a_new_version(tmp_path: Path) -> None:
    training = _training_copy(tmp_path / "training")
    version = code_version(training / "stt", training)
    (training / "nlu" / "train.py").write_text("EPOCHS = 1\n", encoding="utf-8")
    assert code_version(training / "stt", training) == version


def test_the_shared_training_code_exists_where_the_code_version_looks() -> None:
    for name in SHARED_CODE:
        assert (TRAINING_DIR / name).exists(), f"training/{name} (SHARED_CODE) is missing"


def test_scores_by_language_and_flattening() -> None:
    items = [("ru", 1.0), ("ru", 0.0), ("en", 1.0)]
    scores = by_language(
        items, lambda i: i[0], lambda xs: {"mean": sum(x for _, x in xs) / len(xs)}
    )
    assert scores == {"all": {"mean": 2 / 3}, "en": {"mean": 1.0}, "ru": {"mean": 0.5}}
    nested = {"n": 3, "slot": {"f1": 0.5, "support": 2}, "confusion": [[1, 0]], "ok": True}
    assert flat_metrics(nested) == {"n": 3.0, "slot_f1": 0.5, "slot_support": 2.0}


def test_curves_table_has_a_row_per_epoch() -> None:
    table = curves_table({"loss": [2.0, 1.0], "val_loss": [2.5, 1.5]})
    lines = table.splitlines()
    assert lines[0] == "| epoch | loss | val_loss |"
    assert lines[2] == "| 1 | 2.0000 | 2.5000 |" and len(lines) == 4


def test_preset_casts_set_items_to_the_field_types_and_names_unknown_fields() -> None:
    config = STTConfig.preset("demo", ["blocks=6", "dropout=0.2", "noise_snr_db=[20, 40]"])
    assert (config.blocks, config.dropout, config.noise_snr_db) == (6, 0.2, (20, 40))
    assert config.size == "demo" and STTConfig.preset("tiny", ["deterministic=true"]).deterministic
    with pytest.raises(ValueError, match="STTConfig has no field 'blockz'"):
        STTConfig.preset("demo", ["blockz=6"])


def test_presets_are_the_ones_a_family_defines() -> None:
    from training.nlu.config import NLUConfig

    large = STTConfig.preset("large", ["epochs=2"])
    assert large.size == "large" and large.epochs == 2
    assert (large.channels, large.blocks) > (STTConfig.demo().channels, STTConfig.demo().blocks)
    assert large.max_train_seconds == 0.0, "a long run has no time budget"
    with pytest.raises(ValueError, match="NLUConfig has no preset 'large'; expected one of tiny"):
        NLUConfig.preset("large")


def test_the_tts_large_preset_is_the_demo_model_trained_longer() -> None:
    from training.tts.config import TTSConfig

    demo, large = TTSConfig.demo(), TTSConfig.preset("large", ["max_steps=12000"])
    assert large.size == "large" and large.max_steps == 12000
    assert TTSConfig.large().max_steps == 3 * demo.max_steps
    different = {
        name
        for name, value in dataclasses.asdict(TTSConfig.large()).items()
        if value != getattr(demo, name)
    }
    assert different == {"size", "epochs", "max_steps"}
