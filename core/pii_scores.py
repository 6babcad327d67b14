"""Precision and recall of a PII detector per kind and language, span by span.

A found span is right when it overlaps a gold span of the same kind; a gold span is recalled
when a found span of its kind overlaps it (a name found as "Иван" inside "Иван Петров" counts).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from core.pii_detect import Span, detect


class Example(Protocol):
    """A text with its language and gold spans."""

    language: str
    text: str
    gold: tuple[Span, ...]


@dataclass(frozen=True)
class Score:
    """The figures of one (kind, language)."""

    kind: str
    language: str
    gold: int
    found: int
    right: int
    recalled: int

    @property
    def precision(self) -> float:
        return self.right / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.recalled / self.gold if self.gold else 1.0


def _overlaps(a: Span, b: Span) -> bool:
    return a.kind == b.kind and a.start < b.end and b.start < a.end


def score(
    examples: Iterable[Example], detector: Callable[[str], list[Span]] = detect
) -> list[Score]:
    """One :class:`Score` per (kind, language) seen in the gold or the detector's output."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for item in examples:
        found = detector(item.text)
        for span in found:
            counts[span.kind, item.language, "found"] += 1
            counts[span.kind, item.language, "right"] += any(_overlaps(span, g) for g in item.gold)
        for gold in item.gold:
            counts[gold.kind, item.language, "gold"] += 1
            counts[gold.kind, item.language, "recalled"] += any(_overlaps(gold, f) for f in found)
    keys = sorted({(kind, language) for kind, language, _ in counts})
    return [
        Score(kind, lang, *(counts[kind, lang, k] for k in ("gold", "found", "right", "recalled")))
        for kind, lang in keys
    ]
