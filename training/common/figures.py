"""Pictures of a training run where people look: PNGs in ``<run_dir>/figures/`` and Markdown
with them embedded for the Dagster UI.

    markdown = asset_figures_markdown(summary, "nlu")            # after train.run(...)
    markdown = asset_figures_markdown(summary, "stt", test_rows=rows_of_the_test_split)

* ``curves.png``: loss and metrics per epoch, training and validation in one panel per
  metric, from the Keras history the run recorded (``RunSummary.history``; given only a run
  directory, from its TensorBoard logs, which the training callbacks write every epoch).
* ``confusion_test.png`` (NLU): the test split's intent confusion matrix, rows normalized.
* ``errors.md`` (STT, TTS): the per-language error table (``training.common.error_tables``).

Images are embedded as ``data:image/png;base64`` URIs: the Dagster UI renders those in
``MetadataValue.md``. Drawing uses matplotlib's Agg canvas (no display, no pyplot state).
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from training.common.run import RunSummary

FIGURES_DIR = "figures"
CURVES = "curves.png"
CONFUSION = "confusion_test.png"
ERRORS = "errors.md"
MAX_PANELS = 6
DPI = 80


def history_panels(history: dict[str, list[float]]) -> dict[str, dict[str, list[float]]]:
    """``{metric: {"train": values, "validation": values}}``: ``val_x`` beside ``x``, loss
    first, at most :data:`MAX_PANELS` metrics."""
    panels: dict[str, dict[str, list[float]]] = {}
    for name, values in history.items():
        if not values or name in ("lr", "learning_rate"):
            continue
        base, split = (name[4:], "validation") if name.startswith("val_") else (name, "train")
        panels.setdefault(base, {})[split] = [float(v) for v in values]
    order = sorted(panels, key=lambda n: (n != "loss", not n.endswith("loss"), n))
    return {name: panels[name] for name in order[:MAX_PANELS]}


def draw_curves(history: dict[str, list[float]], path: Path) -> Path | None:
    """Loss and metrics per epoch as a PNG (None when the history is empty)."""
    panels = history_panels(history)
    if not panels:
        return None
    columns = min(3, len(panels))
    rows = math.ceil(len(panels) / columns)
    figure = Figure(figsize=(4.2 * columns, 3.0 * rows), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    for i, (name, splits) in enumerate(panels.items()):
        axes = figure.add_subplot(rows, columns, i + 1)
        for split, values in splits.items():
            epochs = range(1, len(values) + 1)
            axes.plot(epochs, values, marker="o" if len(values) < 30 else None, label=split)
        axes.set_title(name)
        axes.set_xlabel("epoch")
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small")
    return _save(figure, path)


def draw_confusion(matrix: np.ndarray, labels: Sequence[str], path: Path) -> Path:
    """A confusion matrix (rows: true, columns: predicted) as a PNG, each row normalized to
    the share of its examples, counts written in the cells."""
    matrix = np.asarray(matrix, dtype=float)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = 2.5 + 0.35 * len(labels)
    figure = Figure(figsize=(size + 1.5, size), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ticks = range(len(labels))
    axes.set_xticks(ticks, labels, rotation=60, ha="right", fontsize="small")
    axes.set_yticks(ticks, labels, fontsize="small")
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    for (row, column), count in np.ndenumerate(matrix):
        if count:
            color = "white" if shares[row, column] > 0.6 else "black"
            axes.text(column, row, f"{count:g}", ha="center", va="center", color=color, size=7)
    figure.colorbar(image, ax=axes, label="share of the true intent's examples")
    return _save(figure, path)


def _save(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def parse_confusion_table(text: str) -> tuple[list[str], np.ndarray] | None:
    """Labels and matrix of the NLU run's ``confusion_test`` table (``training.nlu.evaluate.
    confusion_table``: a header of labels, then one ``label count count ...`` row per true
    intent), or None when it is not such a table."""
    lines = [line for line in text.strip().strip("`").splitlines() if line.strip()]
    labels, rows = [], []
    for line in lines[1:]:
        label, *counts = line.split()
        if not counts or not all(re.fullmatch(r"\d+", c) for c in counts):
            return None
        labels.append(label)
        rows.append([int(c) for c in counts])
    if not rows or any(len(row) != len(rows) for row in rows):
        return None
    return labels, np.array(rows)


def tensorboard_history(run_dir: Path) -> dict[str, list[float]]:
    """Per-epoch scalars of the run's TensorBoard logs (``tensorboard/train`` as ``name``,
    ``tensorboard/validation`` as ``val_name``), as Keras' history names them."""
    from tensorboard.backend.event_processing.event_accumulator import (
        SCALARS,
        TENSORS,
        EventAccumulator,
    )
    from tensorboard.util.tensor_util import make_ndarray

    history: dict[str, list[float]] = {}
    for split, prefix in (("train", ""), ("validation", "val_")):
        folder = Path(run_dir) / "tensorboard" / split
        if not folder.is_dir():
            continue
        events = EventAccumulator(str(folder), size_guidance={SCALARS: 0, TENSORS: 0}).Reload()
        tags = events.Tags()
        for tag in tags.get(TENSORS, []) + tags.get(SCALARS, []):
            if not tag.startswith("epoch_"):
                continue
            name = prefix + tag.removeprefix("epoch_")
            if tag in tags.get(TENSORS, []):
                found = [(e.step, float(make_ndarray(e.tensor_proto))) for e in events.Tensors(tag)]
            else:
                found = [(e.step, float(e.value)) for e in events.Scalars(tag)]
            history[name] = [value for _, value in sorted(found)]
    return history


def write_figures(
    source: RunSummary | Path,
    family: str,
    *,
    test_rows: list[dict[str, Any]] | None = None,
) -> list[Path]:
    """Draw what ``source`` (a run's summary, or its run directory) allows into
    ``<run_dir>/figures/``; every file in that directory afterwards, sorted."""
    from training.common.error_tables import error_tables_markdown

    if isinstance(source, RunSummary):
        run_dir = Path(source.model_path).parent
        history = source.history
    else:
        run_dir = Path(source)
        history = tensorboard_history(run_dir)
    folder = run_dir / FIGURES_DIR
    draw_curves(history, folder / CURVES)
    if isinstance(source, RunSummary):
        parsed = parse_confusion_table(source.tables.get("confusion_test", ""))
        if family == "nlu" and parsed is not None:
            draw_confusion(parsed[1], parsed[0], folder / CONFUSION)
        errors = error_tables_markdown(family, source.scores, source.model_path, test_rows)
        if errors:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / ERRORS).write_text(errors, encoding="utf-8")
    return sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []


def figure_files(run_dir: Path, history: dict[str, list[float]] | None = None) -> list[Path]:
    """The run's figure files, drawing the curves first when the run has none yet (from
    ``history`` when given, else from its TensorBoard logs)."""
    folder = Path(run_dir) / FIGURES_DIR
    if not (folder / CURVES).is_file():
        draw_curves(history or tensorboard_history(Path(run_dir)), folder / CURVES)
    return sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []


def png_markdown(path: Path, title: str) -> str:
    """A PNG as a Markdown image with a ``data:`` URI (the file's bytes, base64)."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f"![{title}](data:image/png;base64,{data})"


def asset_figures_markdown(
    summary_or_run_dir: RunSummary | Path,
    family: str,
    *,
    test_rows: list[dict[str, Any]] | None = None,
) -> str:
    """Write the run's figures (see :func:`write_figures`) and return them as Markdown for
    the training asset's metadata (``MetadataValue.md``): the PNGs embedded as data URIs,
    then the error tables. ``test_rows`` (STT: the test split's mart rows) add the worst
    transcripts per language; without them the table has the CER per language only."""
    files = {p.name: p for p in write_figures(summary_or_run_dir, family, test_rows=test_rows)}
    parts = []
    if CURVES in files:
        parts += ["#### Training curves", png_markdown(files[CURVES], "training curves")]
    if CONFUSION in files:
        parts += ["#### Intent confusion (test)", png_markdown(files[CONFUSION], "confusion")]
    if ERRORS in files:
        parts.append(files[ERRORS].read_text(encoding="utf-8"))
    return "\n\n".join(parts)
