"""Figures of a real (tiny) run: curves and NLU confusion PNGs in the run directory, embedded
in the Markdown the training asset shows; the speech families' per-language error tables."""

from __future__ import annotations

import base64
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from training.common.error_tables import Transcript, cer_table, worst_examples_table
from training.common.figures import (
    CONFUSION,
    CURVES,
    FIGURES_DIR,
    asset_figures_markdown,
    figure_files,
    history_panels,
    parse_confusion_table,
    tensorboard_history,
)
from training.common.run import RunSummary

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def nlu_run(tmp_path_factory) -> RunSummary:
    """The NLU family's platform entry point on synthetic rows, tiny config (about 10 s)."""
    from training.nlu.config import NLUConfig
    from training.nlu.synthetic import synthetic_rows
    from training.nlu.train import run

    rows = synthetic_rows(8, seed=3)
    return run(rows, NLUConfig.tiny(epochs=3), tmp_path_factory.mktemp("nlu_run"))


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (after checking the signature)."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def _assert_drawn(path: Path) -> None:
    width, height = _png_size(path)
    assert 300 <= width <= 3000 and 150 <= height <= 3000, (width, height)
    assert 5_000 < path.stat().st_size < 1_000_000
    pixels = imread(path)
    assert pixels.shape[:2] == (height, width)
    assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 50  # not blank


def _embedded(markdown: str) -> list[bytes]:
    return [
        base64.b64decode(data)
        for data in re.findall(r"!\[[^\]]*\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", markdown)
    ]


def test_nlu_figures_are_written_and_embedded(nlu_run: RunSummary) -> None:
    markdown = asset_figures_markdown(nlu_run, "nlu")
    folder = nlu_run.model_path.parent / FIGURES_DIR
    curves, confusion = folder / CURVES, folder / CONFUSION
    for path in (curves, confusion):
        _assert_drawn(path)
    assert _embedded(markdown) == [curves.read_bytes(), confusion.read_bytes()]
    assert "Training curves" in markdown and "Intent confusion" in markdown


def test_confusion_table_of_the_run_is_read_back_exactly(nlu_run: RunSummary) -> None:
    from core.taxonomy import load_taxonomy
    from training.nlu.evaluate import confusion_table

    labels, matrix = parse_confusion_table(nlu_run.tables["confusion_test"])
    assert labels == list(load_taxonomy().intents)
    assert matrix.sum() == nlu_run.scores["test"]["all"]["n"]
    assert confusion_table(matrix, labels) in nlu_run.tables["confusion_test"]
    assert parse_confusion_table(nlu_run.tables["curves"]) is None


def test_curves_come_back_from_the_run_directory(nlu_run: RunSummary, tmp_path) -> None:
    """Given only the run directory, the history is read from its TensorBoard logs."""
    run_dir = nlu_run.model_path.parent
    history = tensorboard_history(run_dir)
    assert set(nlu_run.history) <= set(history)
    for name, values in nlu_run.history.items():
        assert history[name] == pytest.approx(values, rel=1e-5)
    (run_dir / FIGURES_DIR / CURVES).unlink(missing_ok=True)
    files = figure_files(run_dir)
    assert run_dir / FIGURES_DIR / CURVES in files
    _assert_drawn(run_dir / FIGURES_DIR / CURVES)
    assert (
        _embedded(asset_figures_markdown(run_dir, "nlu"))[0]
        == (run_dir / FIGURES_DIR / CURVES).read_bytes()
    )


def test_history_panels_pair_validation_with_training() -> None:
    panels = history_panels(
        {"val_loss": [2.0], "loss": [3.0], "acc": [0.5], "learning_rate": [0.1], "empty": []}
    )
    assert list(panels) == ["loss", "acc"]
    assert panels["loss"] == {"validation": [2.0], "train": [3.0]}


def test_error_tables_per_language() -> None:
    scores = {
        "test": {
            "all": {"cer": 0.25, "wer": 0.5, "n": 3.0},
            "en": {"cer": 0.1, "wer": 0.2, "n": 1.0},
            "ru": {"cer": 0.3, "wer": 0.6, "n": 2.0},
        },
        "validation": {"all": {"loss": 1.0}},
    }
    assert cer_table(scores).splitlines() == [
        "| split | language | cer | wer | n |",
        "|---|---|---|---|---|",
        "| test | en | 0.1000 | 0.2000 | 1 |",
        "| test | ru | 0.3000 | 0.6000 | 2 |",
        "| test | all | 0.2500 | 0.5000 | 3 |",
    ]
    assert cer_table({"test": {"all": {"bleu": 0.9}}}) == ""
    heard = [
        Transcript("test", "ru", "карта", "карта"),
        Transcript("test", "ru", "карта", "кар|"),
        Transcript("test", "en", "card", "bard"),
    ]
    assert worst_examples_table(heard, per_language=1).splitlines()[2:] == [
        "| test | en | 0.250 | card | bard |",
        "| test | ru | 0.400 | карта | кар\\| |",
    ]


@pytest.mark.slow
def test_stt_markdown_lists_the_worst_transcripts(tmp_path) -> None:
    """A real tiny STT run (about 20 s): its error table and worst transcripts per language."""
    from training.stt.config import STTConfig
    from training.stt.synthetic import synthetic_rows
    from training.stt.text import normalize
    from training.stt.train import run

    rows = synthetic_rows(6, seed=1, real=2, cache=tmp_path / "audio")
    summary = run(rows, STTConfig.tiny(), tmp_path / "run")
    markdown = asset_figures_markdown(summary, "stt", test_rows=rows)
    errors = (tmp_path / "run" / FIGURES_DIR / "errors.md").read_text()
    assert errors in markdown and "| test_real | ru |" in errors
    references = {normalize(r["transcript"], r["language"]) for r in rows}
    worst = errors.split("Worst test transcripts")[1].splitlines()[4:]
    assert worst and all(line.split(" | ")[3] in references for line in worst)
    _assert_drawn(tmp_path / "run" / FIGURES_DIR / CURVES)
