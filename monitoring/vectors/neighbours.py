"""Nearest training examples of an utterance, and near-duplicates between train and test.

Both search one version's ``train`` rows within the same language and report the cosine
similarity of the centred utterance vectors (:func:`monitoring.vectors.index.similarity`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from monitoring.vectors.index import VersionIndex, similarity

#: Cosine similarity from which a test row counts as a near-duplicate of a train row.
DUPLICATE_THRESHOLD = 0.95


@dataclass(frozen=True)
class Neighbour:
    """A train row and its similarity to the query."""

    similarity: float
    row: dict[str, Any]


def nearest_training(index: VersionIndex, text: str, language: str, k: int = 5) -> list[Neighbour]:
    """The ``k`` train rows of ``language`` nearest to ``text``, most similar first."""
    vector = index.embed([text])
    where = index.where("training", split="train", language=language)
    found = [
        Neighbour(similarity(vector[0], hit), hit.payload)
        for hit in index.nearest(vector, k, where)[0]
    ]
    return sorted(found, key=lambda neighbour: -neighbour.similarity)


@dataclass(frozen=True)
class NearDuplicate:
    """A held-out row and the train row its vector is closest to."""

    language: str
    similarity: float
    held_out: dict[str, Any]
    train: dict[str, Any]


def near_duplicates(
    index: VersionIndex,
    threshold: float = DUPLICATE_THRESHOLD,
    held_out_split: str = "test",
    languages: Sequence[str] = ("ru", "en"),
) -> dict[str, list[NearDuplicate]]:
    """Per language, the ``held_out_split`` rows whose nearest train row is at least
    ``threshold`` similar, most similar first."""
    found: dict[str, list[NearDuplicate]] = {}
    for language in languages:
        hits, vectors = index.store.vectors(
            index.collection, index.where("training", split=held_out_split, language=language)
        )
        nearest = index.nearest(
            vectors, 1, index.where("training", split="train", language=language)
        )
        pairs = [
            NearDuplicate(language, round(score, 6), held.payload, best[0].payload)
            for held, vector, best in zip(hits, vectors, nearest, strict=True)
            if best and (score := similarity(vector, best[0])) >= threshold
        ]
        found[language] = sorted(pairs, key=lambda pair: -pair.similarity)
    return found


def split_duplicates(
    model: Any,
    rows: Sequence[dict[str, Any]],
    threshold: float = DUPLICATE_THRESHOLD,
    held_out_split: str = "test",
) -> tuple[dict[str, list[NearDuplicate]], dict[str, int]]:
    """:func:`near_duplicates` of ``rows`` embedded by ``model`` in a throwaway in-memory
    index (a model not registered yet), and the held-out rows per language."""
    from monitoring.vectors.qdrant import QdrantStore

    with QdrantStore.memory() as store:
        index = VersionIndex(store, model, "unregistered")
        index.add("training", rows)
        found = near_duplicates(index, threshold, held_out_split)
        held_out = {
            language: index.count("training", split=held_out_split, language=language)
            for language in found
        }
    return found, held_out
