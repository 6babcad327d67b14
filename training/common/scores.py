"""Scores in one shape for every family: ``{split: {language: {metric: float}}}``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
ALL = "all"


def by_language(
    items: Sequence[T], language: Callable[[T], str], score: Callable[[list[T]], dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """``score`` over all items (``"all"``) and over each language's items."""
    result = {ALL: score(list(items))}
    for lang in sorted({language(item) for item in items}):
        result[lang] = score([item for item in items if language(item) == lang])
    return result


def flat_metrics(scores: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Numbers of a nested score dict as ``{"slot_f1": 0.9, ...}``; lists (matrices) dropped."""
    flat: dict[str, float] = {}
    for name, value in scores.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            flat |= flat_metrics(value, prefix=f"{key}_")
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int | float):
            flat[key] = float(value)
    return flat


def flat_scores(metrics: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, dict]]:
    """``{split: {language: nested scores}}`` -> the same with flat float metrics."""
    return {
        split: {lang: flat_metrics(scores) for lang, scores in languages.items()}
        for split, languages in metrics.items()
    }


def is_test_split(split: str) -> bool:
    """``test`` or a test subset ``test_<subset>`` (the splits targets are checked on)."""
    return split == "test" or split.startswith("test_")


def target_metrics(scores: dict[str, dict[str, dict[str, Any]]]) -> dict[str, float]:
    """The test splits' scores as the names training targets use: ``test`` ->
    ``intent_accuracy_all``, a subset ``test_<subset>`` -> ``<subset>_intent_accuracy_all``."""
    return {
        f"{split.removeprefix('test').lstrip('_')}_{metric}_{lang}".lstrip("_"): float(value)
        for split, languages in scores.items()
        if is_test_split(split)
        for lang, metrics in languages.items()
        for metric, value in metrics.items()
    }
