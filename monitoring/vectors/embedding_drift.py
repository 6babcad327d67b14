"""Embedding drift: how many new utterances are farther from the training data than the
model's own held-out rows are.

Per language, each held-out row (``validation`` and ``test``) gets its distance to the
nearest ``train`` row of the same version (Euclidean between unit vectors: 0 to 2); the
95th percentile of those distances is the novelty radius. A new utterance farther than
the radius from every train row is *novel*. The score is the novel share: about 0.05 when
new utterances look like the held-out data, 1.0 when none do. It needs no labels, is
scale-free across model versions (the radius is measured in each version's own space),
and names the novel utterances. Drifted over :data:`NOVELTY_THRESHOLD` (five times the
expected share).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from monitoring.drift import THRESHOLDS
from monitoring.vectors.index import VersionIndex

RADIUS_QUANTILE = 0.95
NOVELTY_THRESHOLD = THRESHOLDS["novelty"]
HELD_OUT = ("validation", "test")


@dataclass(frozen=True)
class NoveltyScore:
    """One language: the novel share of ``production_count`` utterances, the radius it
    used, and the mean nearest-train distance of each side."""

    language: str
    novel_share: float
    radius: float
    production_mean_distance: float
    held_out_mean_distance: float
    production_count: int
    held_out_count: int
    novel_examples: tuple[str, ...]


def nearest_train_distance(index: VersionIndex, vectors: np.ndarray, language: str) -> np.ndarray:
    """Distance of each vector to its nearest train row (2, the largest, when none)."""
    where = index.where("training", split="train", language=language)
    hits = index.nearest(vectors, 1, where)
    return np.asarray([best[0].distance if best else 2.0 for best in hits])


def novelty(
    index: VersionIndex,
    production: Sequence[dict[str, Any]],
    language: str,
    *,
    min_values: int = 50,
    examples: int = 3,
) -> NoveltyScore | None:
    """The novelty score of the ``production`` rows (``text``, ``language``) of ``language``
    against ``index``'s training rows; None with fewer than ``min_values`` rows."""
    texts = [row["text"] for row in production if row.get("language") == language]
    if len(texts) < min_values:
        return None
    held_out: list[np.ndarray] = []
    for split in HELD_OUT:
        _, vectors = index.store.vectors(
            index.collection, index.where("training", split=split, language=language)
        )
        if len(vectors):
            held_out.append(vectors)
    if not held_out:
        return None
    held_distance = nearest_train_distance(index, np.concatenate(held_out), language)
    radius = float(np.quantile(held_distance, RADIUS_QUANTILE))
    distance = nearest_train_distance(index, index.embed(texts), language)
    novel = distance > radius
    farthest = np.argsort(-distance)[: int(min(examples, novel.sum()))]
    return NoveltyScore(
        language,
        round(float(novel.mean()), 6),
        round(radius, 6),
        round(float(distance.mean()), 6),
        round(float(held_distance.mean()), 6),
        len(texts),
        len(held_distance),
        tuple(texts[i] for i in farthest),
    )
