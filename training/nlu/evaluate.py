"""NLU metrics in plain Python/NumPy: intent accuracy, macro-F1, span slot F1, confusion.

Every metric is also reported per language (``report``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from training.nlu.bio import spans


def accuracy(y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    """Share of exact matches (0.0 for no examples)."""
    if not len(y_true):
        return 0.0
    return float(np.mean([t == p for t, p in zip(y_true, y_pred, strict=True)]))


def _f1(tp: int, fp: int, fn: int) -> float:
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def macro_f1(y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    """Mean F1 over the classes present in ``y_true`` or ``y_pred`` (sklearn's default)."""
    classes = sorted(set(y_true) | set(y_pred), key=str)
    if not classes:
        return 0.0
    scores = []
    for c in classes:
        tp = sum(t == c and p == c for t, p in zip(y_true, y_pred, strict=True))
        fp = sum(t != c and p == c for t, p in zip(y_true, y_pred, strict=True))
        fn = sum(t == c and p != c for t, p in zip(y_true, y_pred, strict=True))
        scores.append(_f1(tp, fp, fn))
    return float(np.mean(scores))


def confusion_matrix(
    y_true: Sequence[Any], y_pred: Sequence[Any], labels: Sequence[Any]
) -> np.ndarray:
    """[true label, predicted label] counts, rows and columns in ``labels`` order."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), np.int64)
    for t, p in zip(y_true, y_pred, strict=True):
        matrix[index[t], index[p]] += 1
    return matrix


def slot_f1(true_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]]) -> dict:
    """Span-level micro precision / recall / F1: a span counts only if slot and bounds match."""
    tp = fp = fn = 0
    for t, p in zip(true_tags, pred_tags, strict=True):
        gold, found = set(spans(list(t))), set(spans(list(p)))
        tp += len(gold & found)
        fp += len(found - gold)
        fn += len(gold - found)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = _f1(tp, fp, fn) if tp + fp + fn else 1.0  # nothing to find, nothing found: perfect
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


def evaluate_exported(model_dir: Path, rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Flat scores of an exported SavedModel (loaded fresh) on mart rows, per language."""
    from training.common.scores import flat_metrics
    from training.nlu.data import label
    from training.nlu.export import load
    from training.nlu.train import evaluate_split

    serving = load(model_dir)
    width = int(serving.serve(tf.constant(["probe"]))["tokens"].shape[1])
    scores = evaluate_split(serving, label(rows, width))
    return {lang: flat_metrics(values) for lang, values in scores.items()}
