"""NLU metrics in plain Python/NumPy: intent accuracy, macro-F1, span slot F1, confusion.

Every metric is also reported per language (``report``). Each corpus metric is the aggregate
of per-example counts (``training.common.example_stats``), which :func:`example_stats`
returns for a paired bootstrap (``registry.compare``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from training.common.example_stats import ExampleStats, corpus_metric, row_keys
from training.common.scores import flat_metrics
from training.nlu.bio import spans, tag_names
from training.nlu.data import IGNORE, intent_names
from training.nlu.data import label as labelled_data
from training.nlu.export import load, predict
from training.nlu.phrasing import unseen_phrasings


def match_counts(y_true: Sequence[Any], y_pred: Sequence[Any]) -> list[tuple[int, int]]:
    """(correct, 1) per example: accuracy's share of each."""
    return [(int(t == p), 1) for t, p in zip(y_true, y_pred, strict=True)]


def accuracy(y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    """Share of exact matches (0.0 for no examples)."""
    return corpus_metric("ratio", match_counts(y_true, y_pred), width=2)


def class_counts(
    y_true: Sequence[Any], y_pred: Sequence[Any], classes: Sequence[Any]
) -> np.ndarray:
    """[n, 3 * len(classes)]: each example's (tp, fp, fn) for every class, class by class."""
    index = {c: i for i, c in enumerate(classes)}
    counts = np.zeros((len(y_true), len(classes), 3))
    for row, (t, p) in enumerate(zip(y_true, y_pred, strict=True)):
        if t == p:
            counts[row, index[t], 0] = 1
        else:
            counts[row, index[p], 1] = 1
            counts[row, index[t], 2] = 1
    return counts.reshape(len(y_true), 3 * len(classes))


def macro_f1(y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    """Mean F1 over the classes present in ``y_true`` or ``y_pred`` (sklearn's default)."""
    classes = sorted(set(y_true) | set(y_pred), key=str)
    if not classes:
        return 0.0
    return corpus_metric("macro_f1", class_counts(y_true, y_pred, classes), 3 * len(classes))


def confusion_matrix(
    y_true: Sequence[Any], y_pred: Sequence[Any], labels: Sequence[Any]
) -> np.ndarray:
    """[true label, predicted label] counts, rows and columns in ``labels`` order."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), np.int64)
    for t, p in zip(y_true, y_pred, strict=True):
        matrix[index[t], index[p]] += 1
    return matrix


def span_counts(true_tags: Sequence[str], pred_tags: Sequence[str]) -> tuple[int, int, int]:
    """(tp, fp, fn) slot spans of one utterance: a span counts only if slot and bounds match."""
    gold, found = set(spans(list(true_tags))), set(spans(list(pred_tags)))
    return len(gold & found), len(found - gold), len(gold - found)


def slot_f1(true_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]]) -> dict:
    """Span-level micro precision / recall / F1: a span counts only if slot and bounds match."""
    counts = [span_counts(t, p) for t, p in zip(true_tags, pred_tags, strict=True)]
    tp, fp, fn = (sum(column) for column in zip(*counts, strict=True)) if counts else (0, 0, 0)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = corpus_metric("f1", counts, width=3)  # nothing to find, nothing found: 1.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}


def confusion_table(matrix: np.ndarray, labels: Sequence[str]) -> str:
    """The confusion matrix as aligned text (rows: true, columns: predicted)."""
    width = max(5, *(len(str(v)) for v in matrix.flat))
    short = [label[:width] for label in labels]
    name = max(len(label) for label in labels)
    lines = [" " * name + " " + " ".join(s.rjust(width) for s in short)]
    for label, row in zip(labels, matrix, strict=True):
        lines.append(label.ljust(name) + " " + " ".join(str(v).rjust(width) for v in row))
    return "\n".join(lines)


def _scores(
    true_intents: list[str],
    pred_intents: list[str],
    true_tags: list,
    pred_tags: list,
    labels: Sequence[str],
) -> dict[str, Any]:
    return {
        "n": len(true_intents),
        "intent_accuracy": accuracy(true_intents, pred_intents),
        "intent_macro_f1": macro_f1(true_intents, pred_intents),
        "slot": slot_f1(true_tags, pred_tags),
        "confusion": confusion_matrix(true_intents, pred_intents, labels).tolist(),
    }


def report(
    languages: Sequence[str],
    true_intents: Sequence[str],
    pred_intents: Sequence[str],
    true_tags: Sequence[Sequence[str]],
    pred_tags: Sequence[Sequence[str]],
    labels: Sequence[str],
) -> dict[str, Any]:
    """Scores overall and per language: ``{"all": {...}, "ru": {...}, "en": {...}}``."""
    columns = [list(true_intents), list(pred_intents), list(true_tags), list(pred_tags)]
    result = {"all": _scores(*columns, labels)}
    for language in sorted(set(languages)):
        keep = [i for i, lang in enumerate(languages) if lang == language]
        result[language] = _scores(*([c[i] for i in keep] for c in columns), labels)
    return result


@dataclass
class Predictions:
    """A model's intents and slot tags beside the truth, one entry per example."""

    languages: list[str]
    true_intents: list[str]
    pred_intents: list[str]
    true_tags: list[list[str]]
    pred_tags: list[list[str]]


def predictions(serving: Any, data: Any, batch_size: int = 256) -> Predictions:
    """The served model's answers on :class:`~training.nlu.data.Labelled` data."""
    names, tags = intent_names(), tag_names()
    predicted = []
    for start in range(0, len(data.texts), batch_size):
        predicted += predict(serving, data.texts[start : start + batch_size])
    return Predictions(
        languages=list(data.languages),
        true_intents=[names[i] for i in data.intents],
        pred_intents=[p["intent"] for p in predicted],
        true_tags=[[tags[t] for t in row if t != IGNORE] for row in data.tags],
        pred_tags=[p["tags"] for p in predicted],
    )


def evaluate_split(serving: Any, data: Any) -> dict[str, Any]:
    """Scores of ``serving`` on :class:`~training.nlu.data.Labelled` data, overall and per
    language."""
    found = predictions(serving, data)
    return report(
        found.languages,
        found.true_intents,
        found.pred_intents,
        found.true_tags,
        found.pred_tags,
        intent_names(),
    )


def _predict_rows(model_dir: Path, rows: list[dict[str, Any]]) -> Predictions:
    """Predictions of the SavedModel at ``model_dir`` (loaded fresh) on mart rows."""
    serving = load(model_dir)
    width = int(serving.serve(tf.constant(["probe"]))["tokens"].shape[1])
    return predictions(serving, labelled_data(rows, width))


def evaluate_exported(model_dir: Path, rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Flat scores of an exported SavedModel (loaded fresh) on mart rows, per language."""
    found = _predict_rows(model_dir, rows)
    scores = report(
        found.languages,
        found.true_intents,
        found.pred_intents,
        found.true_tags,
        found.pred_tags,
        intent_names(),
    )
    return {lang: flat_metrics(values) for lang, values in scores.items()}


def stats_of_predictions(found: Predictions, keys: Sequence[str]) -> dict[str, ExampleStats]:
    """``intent_accuracy``, ``intent_macro_f1`` and ``slot_f1`` counts per example."""
    classes = sorted(intent_names(), key=str)
    truth, guess = found.true_intents, found.pred_intents
    pairs = zip(found.true_tags, found.pred_tags, strict=True)

    def stats(metric: str, kind: str, columns: Sequence[str], values: Any) -> ExampleStats:
        return ExampleStats.from_rows(
            metric, kind, columns, values, keys, found.languages, "higher"
        )

    return {
        "intent_accuracy": stats(
            "intent_accuracy", "ratio", ("correct", "examples"), match_counts(truth, guess)
        ),
        "intent_macro_f1": stats(
            "intent_macro_f1",
            "macro_f1",
            [f"{c}:{part}" for c in classes for part in ("tp", "fp", "fn")],
            class_counts(truth, guess, classes),
        ),
        "slot_f1": stats(
            "slot_f1", "f1", ("tp", "fp", "fn"), [span_counts(t, p) for t, p in pairs]
        ),
    }


def comparison_inputs(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What :func:`example_stats` takes from the whole mart beside one split's rows: the
    ``train`` rows (``train_rows``), for ``unseen_phrasing_intent_accuracy``."""
    return {"train_rows": [row for row in rows if row.get("split") == "train"]}


def example_stats(
    model_dir: Path,
    rows: list[dict[str, Any]],
    *,
    train_rows: list[dict[str, Any]] | None = None,
) -> dict[str, ExampleStats]:
    """Per-example counts of the SavedModel at ``model_dir`` on ``rows``, keyed by
    ``example_id``: ``intent_accuracy``, ``intent_macro_f1``, ``slot_f1``, and with
    ``train_rows`` ``unseen_phrasing_intent_accuracy`` (the rows whose phrasing no training
    row has: the ``test_unseen_phrasing`` split of training)."""
    stats = stats_of_predictions(_predict_rows(model_dir, rows), row_keys(rows, "example_id"))
    if train_rows is not None:
        unseen = {id(row) for row in unseen_phrasings(train_rows, rows)}
        keep = [id(row) in unseen for row in rows]
        name = "unseen_phrasing_intent_accuracy"
        stats[name] = stats["intent_accuracy"].subset(keep, metric=name)
    return stats
