""":class:`VectorStore` on Qdrant: local mode in a folder (the embedded default) or a server.

Both go through ``qdrant_client.QdrantClient`` (``path=`` or ``url=``), so every line below
runs the same in both; the difference is the engine behind it. Local mode searches by brute
force in the process (no HNSW) and holds a lock on its folder: one process at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from qdrant_client import QdrantClient, models

from core.settings import Settings
from monitoring.vectors.store import Filter, Hit, Point, VectorStore, point_uuid

#: The payload key holding a point's own text key (Qdrant keeps only the UUID).
KEY = "key"
#: Points per upsert request.
UPSERT_BATCH = 512


def _filter(where: Filter | None) -> models.Filter | None:
    if not where:
        return None
    return models.Filter(
        must=[
            models.FieldCondition(key=key, match=models.MatchValue(value=value))
            for key, value in where.items()
        ]
    )


def _hit(point: Any) -> Hit:
    payload = dict(point.payload or {})
    vector = None if point.vector is None else np.asarray(point.vector, np.float32)
    distance = float(getattr(point, "score", 0.0))
    return Hit(str(payload.pop(KEY, point.id)), distance, payload, vector)


class QdrantStore(VectorStore):
    """Points in Qdrant collections; ``client`` is local (``path=``) or remote (``url=``)."""

    def __init__(self, client: QdrantClient, description: str, *, server: bool):
        self.client = client
        self.description = description
        self.is_server = server

    @classmethod
    def local(cls, path: str) -> QdrantStore:
        return cls(QdrantClient(path=path), f"Qdrant local mode in {path}", server=False)

    @classmethod
    def server(cls, url: str, timeout_s: int = 30) -> QdrantStore:
        client = QdrantClient(url=url, timeout=timeout_s)
        return cls(client, f"Qdrant server at {url}", server=True)

    def ensure_collection(self, name: str, dim: int) -> None:
        if self.client.collection_exists(name):
            return
        self.client.create_collection(
            name, vectors_config=models.VectorParams(size=dim, distance=models.Distance.EUCLID)
        )
        if not self.is_server:
            return  # local mode has no payload indexes: it filters every point
        # keyword indexes on the filtered keys keep filtered HNSW search fast on a server
        for key in ("kind", "version", "language", "split"):
            self.client.create_payload_index(name, key, models.PayloadSchemaType.KEYWORD)

    def upsert(self, name: str, points: Sequence[Point]) -> None:
        for start in range(0, len(points), UPSERT_BATCH):
            batch = [
                models.PointStruct(
                    id=point_uuid(point.id),
                    vector=[float(x) for x in point.vector],
                    payload=point.payload | {KEY: point.id},
                )
                for point in points[start : start + UPSERT_BATCH]
            ]
            self.client.upsert(name, points=batch, wait=True)

    def search(
        self, name: str, vector: Sequence[float], k: int, where: Filter | None = None
    ) -> list[Hit]:
        found = self.client.query_points(
            name,
            query=[float(x) for x in vector],
            limit=k,
            query_filter=_filter(where),
            with_payload=True,
            with_vectors=True,
        )
        return [_hit(point) for point in found.points]

    def search_many(
        self, name: str, vectors: np.ndarray, k: int, where: Filter | None = None
    ) -> list[list[Hit]]:
        if len(vectors) == 0:
            return []
        requests = [
            models.QueryRequest(
                query=[float(x) for x in row],
                limit=k,
                filter=_filter(where),
                with_payload=True,
                with_vector=True,
            )
            for row in vectors
        ]
        responses = self.client.query_batch_points(name, requests=requests)
        return [[_hit(point) for point in response.points] for response in responses]

    def delete(self, name: str, where: Filter) -> None:
        if not self.client.collection_exists(name):
            return
        selector = models.FilterSelector(filter=_filter(where))
        self.client.delete(name, points_selector=selector, wait=True)

    def count(self, name: str, where: Filter | None = None) -> int:
        if not self.client.collection_exists(name):
            return 0
        return self.client.count(name, count_filter=_filter(where), exact=True).count

    def vectors(self, name: str, where: Filter) -> tuple[list[Hit], np.ndarray]:
        hits: list[Hit] = []
        rows: list[list[float]] = []
        offset = None
        while self.client.collection_exists(name):
            points, offset = self.client.scroll(
                name,
                scroll_filter=_filter(where),
                limit=1024,
                offset=offset,
                with_payload=True,
                with_vectors=True,
            )
            hits += [_hit(point) for point in points]
            rows += [list(point.vector) for point in points]
            if offset is None:
                break
        return hits, np.asarray(rows, np.float32)

    def close(self) -> None:
        self.client.close()


def open_store(settings: Settings) -> QdrantStore:
    """The store ``settings`` name: a server by ``qdrant_url``, else local mode under home."""
    if settings.qdrant_url:
        return QdrantStore.server(settings.qdrant_url)
    path = settings.vectors_path
    path.mkdir(parents=True, exist_ok=True)
    return QdrantStore.local(str(path))
