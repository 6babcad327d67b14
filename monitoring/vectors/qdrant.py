""":class:`VectorStore` on Qdrant: local mode in a folder (the embedded default) or a server.

Both go through ``qdrant_client.QdrantClient`` (``path=`` or ``url=``): the same collections,
points, payloads and filters. A server searches with HNSW and payload indexes. Local mode
has neither and holds a lock on its folder (one process at a time); two things it does
slowly are done here instead (figures: ``python -m bench.vector_index``):

- it evaluates the payload filter in Python for every point of every query (0.4 s a query
  among 10,000 points, 2.5 s among 50,000); :meth:`QdrantStore.search_many` of
  :data:`LOCAL_BATCH` queries or more scrolls the filtered points out once (about as long
  as 3 queries) and ranks them for all queries in one NumPy product (4 ms a query in a
  batch of 200 among 10,000 points, 37 ms among 50,000);
- it commits each upserted point to its SQLite file on its own (~100-170 points/s here);
  write-ahead logging with ``synchronous=NORMAL`` makes that ~10x faster and stays safe
  when the process crashes (only a power cut can lose the last commits; the index is
  rebuilt from the marts anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from qdrant_client import QdrantClient, models

from core.errors import VoiceOpsError
from core.settings import Settings
from monitoring.vectors.store import Filter, Hit, Point, VectorStore, point_uuid

#: The payload key holding a point's own text key (Qdrant keeps only the UUID).
KEY = "key"
#: Points per upsert request.
UPSERT_BATCH = 512
#: From this many queries, local mode ranks a scrolled copy of the points with NumPy.
LOCAL_BATCH = 8
#: Points per scroll page (local mode filters every point again for each page).
SCROLL_PAGE = 8192


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
    def memory(cls) -> QdrantStore:
        """A throwaway index in this process (local mode, nothing written)."""
        return cls(QdrantClient(location=":memory:"), "Qdrant local mode in memory", server=False)

    @classmethod
    def server(cls, url: str, timeout_s: int = 30) -> QdrantStore:
        client = QdrantClient(url=url, timeout=timeout_s)
        return cls(client, f"Qdrant server at {url}", server=True)

    def ensure_collection(self, name: str, dim: int) -> None:
        if self.client.collection_exists(name):
            self._fast_local_commits(name)
            return
        self.client.create_collection(
            name, vectors_config=models.VectorParams(size=dim, distance=models.Distance.EUCLID)
        )
        if not self.is_server:
            self._fast_local_commits(name)
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
        if not self.is_server and len(vectors) >= LOCAL_BATCH:
            return self._local_search_many(name, np.asarray(vectors, np.float32), k, where)
        if not self.is_server:
            return [self.search(name, row, k, where) for row in vectors]
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

    def _local_search_many(
        self, name: str, queries: np.ndarray, k: int, where: Filter | None
    ) -> list[list[Hit]]:
        """Exact Euclidean top-``k`` over the filtered points, scrolled once."""
        hits, points = self.vectors(name, where or {})
        if not hits:
            return [[] for _ in queries]
        squared = (
            (queries**2).sum(1)[:, None] - 2 * queries @ points.T + (points**2).sum(1)[None, :]
        )
        distances = np.sqrt(np.maximum(squared, 0.0))
        top = min(k, len(hits))
        nearest = np.argpartition(distances, top - 1, axis=1)[:, :top]
        found = []
        for row, candidates in enumerate(nearest):
            ranked = candidates[np.argsort(distances[row, candidates], kind="stable")]
            found.append(
                [
                    Hit(hits[i].id, float(distances[row, i]), hits[i].payload, points[i])
                    for i in ranked
                ]
            )
        return found

    def _fast_local_commits(self, name: str) -> None:
        """WAL and ``synchronous=NORMAL`` on a local collection's SQLite file (see above)."""
        local = getattr(self.client, "_client", None)
        collection = getattr(local, "collections", {}).get(name)
        storage = getattr(getattr(collection, "storage", None), "storage", None)
        if storage is not None:  # an in-memory collection, or another client version: as is
            storage.execute("PRAGMA journal_mode=WAL")
            storage.execute("PRAGMA synchronous=NORMAL")

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
                limit=SCROLL_PAGE,
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


class VectorStoreBusyError(VoiceOpsError):
    """Another process has the local index open (local mode allows one at a time)."""


def open_store(settings: Settings) -> QdrantStore:
    """The store ``settings`` name: a server by ``qdrant_url``, else local mode under home."""
    if settings.qdrant_url:
        return QdrantStore.server(settings.qdrant_url)
    path = settings.vectors_path
    path.mkdir(parents=True, exist_ok=True)
    try:
        return QdrantStore.local(str(path))
    except RuntimeError as error:
        if "already accessed" not in str(error):
            raise
        raise VectorStoreBusyError(
            f"the vector index {path} is open in another process (Qdrant local mode allows "
            "one at a time): retry when it is done, or set VOICEOPS_QDRANT_URL to a server"
        ) from None
