"""The vector index interface: points (an id, a vector, a payload) in named collections.

Payload filters are equality on payload keys (``{"version": "3", "split": "train"}``): the
NLU index keeps every version's training rows and the production utterances in one
collection and selects them by ``kind``, ``version``, ``language`` and ``split``.
Vectors are compared by Euclidean distance (translation-invariant: the NLU index centres
its vectors and measures cosine similarity on the centred vectors the search returns).
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Filter = dict[str, str]


@dataclass(frozen=True)
class Point:
    """One stored vector: ``id`` is any text key (mapped to a UUID for the engine)."""

    id: str
    vector: Sequence[float]
    payload: dict[str, Any]


@dataclass(frozen=True)
class Hit:
    """A search result: the point's key, payload and vector, and its distance to the query."""

    id: str
    distance: float
    payload: dict[str, Any]
    vector: np.ndarray | None = None


def point_uuid(key: str) -> str:
    """A stable UUID for a text key (Qdrant ids are UUIDs or integers)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"voiceops:{key}"))


class VectorStore(ABC):
    """A vector index; implementations differ only in where the points live."""

    description: str = ""

    @abstractmethod
    def ensure_collection(self, name: str, dim: int) -> None:
        """Create ``name`` for ``dim``-dimensional vectors (Euclidean) unless it exists."""

    @abstractmethod
    def upsert(self, name: str, points: Sequence[Point]) -> None:
        """Insert or replace points (same id: replaced)."""

    @abstractmethod
    def search(
        self, name: str, vector: Sequence[float], k: int, where: Filter | None = None
    ) -> list[Hit]:
        """The ``k`` nearest points matching ``where`` (with vectors), nearest first."""

    @abstractmethod
    def search_many(
        self, name: str, vectors: np.ndarray, k: int, where: Filter | None = None
    ) -> list[list[Hit]]:
        """:meth:`search` for each row of ``vectors`` (one round trip)."""

    @abstractmethod
    def delete(self, name: str, where: Filter) -> None:
        """Delete the points matching ``where``."""

    @abstractmethod
    def count(self, name: str, where: Filter | None = None) -> int:
        """How many points match ``where`` (0 when the collection does not exist)."""

    @abstractmethod
    def vectors(self, name: str, where: Filter) -> tuple[list[Hit], np.ndarray]:
        """Every point matching ``where`` with its vector (rows in the hits' order)."""

    @abstractmethod
    def close(self) -> None:
        """Release the index (local mode: its lock on the folder)."""

    def __enter__(self) -> VectorStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
