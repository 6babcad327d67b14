"""Embed NLU utterances with one model version and keep them in the vector store.

One collection per vector size (``nlu_utterances_<dim>``): versions of one architecture
share it and are told apart by payload. A vector is only comparable with vectors of the
same version, so every point records the ``version`` that embedded it, and every search
filters by it. Payload: ``kind`` (``training`` or ``production``), ``version``,
``language``, ``split`` (training rows), ``intent``, ``text``.

Vectors are scaled to unit length, then centred on the mean of the version's ``train``
rows. Search is Euclidean (centring does not change it); similarity is the cosine of the
centred vectors: a small encoder's pooled ReLU features share a large common component
(raw cosines of unrelated utterances of the tiny model are all over 0.98), which centring
removes, so a similarity threshold means something. The centre is kept as the version's
``kind="center"`` point (its payload holds the vector); queries are centred the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from monitoring.vectors.store import Filter, Hit, Point, VectorStore
from training.nlu.embed import embed_texts, embedding_dim, normalized

Kind = Literal["training", "production", "center"]
COLLECTION = "nlu_utterances"


def collection_name(dim: int) -> str:
    return f"{COLLECTION}_{dim}"


def row_key(row: dict[str, Any]) -> str:
    """The row's ``example_id``, else a hash of its language and text."""
    if row.get("example_id"):
        return str(row["example_id"])
    text = f"{row.get('language', '')}|{row['text']}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class VersionIndex:
    """The points one NLU version embedded, and the model to embed queries with."""

    store: VectorStore
    model: Any
    version: str

    def __post_init__(self) -> None:
        self.collection = collection_name(embedding_dim(self.model))
        self._center: np.ndarray | None = None

    @property
    def center(self) -> np.ndarray:
        """The mean unit vector of the version's train rows (stored when they were added)."""
        if self._center is None:
            hits, _ = self.store.vectors(self.collection, self.where("center"))
            if not hits:
                raise LookupError(
                    f"NLU version {self.version} has no training rows in the vector index"
                )
            self._center = np.asarray(hits[0].payload["center"], np.float32)
        return self._center

    def raw(self, texts: Sequence[str]) -> np.ndarray:
        return normalized(embed_texts(self.model, texts))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors: unit length, centred like the stored ones."""
        return self.raw(texts) - self.center

    def where(self, kind: Kind, **payload: str) -> Filter:
        return {"kind": kind, "version": self.version} | payload

    def add(self, kind: Kind, rows: Sequence[dict[str, Any]], **payload: str) -> int:
        """Replace this version's ``kind`` points matching ``payload`` by ``rows`` (each with
        ``text`` and ``language``); returns how many were stored. Training rows (with their
        ``split``) come first: they fix the centre."""
        self.store.ensure_collection(self.collection, embedding_dim(self.model))
        self.store.delete(self.collection, self.where(kind, **payload))
        vectors = self.raw([row["text"] for row in rows])
        if kind == "training":
            self._set_center(vectors[[row.get("split") == "train" for row in rows]])
        points = [
            Point(
                f"{kind}:{self.version}:{row_key(row)}",
                vector - self.center,
                self.where(kind, **payload)
                | {
                    "language": row.get("language", ""),
                    "split": row.get("split", ""),
                    "intent": row.get("intent", ""),
                    "text": row["text"],
                },
            )
            for row, vector in zip(rows, vectors, strict=True)
        ]
        self.store.upsert(self.collection, points)
        return len(points)

    def _set_center(self, train_vectors: np.ndarray) -> None:
        if not len(train_vectors):
            raise LookupError("no train rows: the index needs them to centre the vectors")
        center = train_vectors.mean(axis=0)
        self.store.delete(self.collection, self.where("center"))
        point = Point(
            f"center:{self.version}",
            center,
            self.where("center") | {"center": [float(x) for x in center]},
        )
        self.store.upsert(self.collection, [point])
        self._center = center.astype(np.float32)

    def count(self, kind: Kind, **payload: str) -> int:
        return self.store.count(self.collection, self.where(kind, **payload))

    def nearest(self, vectors: np.ndarray, k: int, where: Filter) -> list[list[Hit]]:
        """The ``k`` nearest points matching ``where`` (this version's) of each vector."""
        return self.store.search_many(self.collection, vectors, k, where)


def similarity(query: np.ndarray, hit: Hit) -> float:
    """Cosine similarity of a centred query vector and a hit's centred vector."""
    vector = hit.vector if hit.vector is not None else np.zeros_like(query)
    norms = float(np.linalg.norm(query) * np.linalg.norm(vector))
    return float(np.dot(query, vector) / norms) if norms else 0.0
