"""Vector index: Qdrant local mode (the embedded default) against a NumPy brute-force search
over the same vectors, in the same run.

Set-up: random unit vectors of the demo NLU's size (192 = 2 x encoder_units 96) with the NLU
index's payload (kind, version, language, split), half Russian. For each size:

- **upsert**: points per second into a fresh local collection (``QdrantStore.upsert``, WAL).
- **search**: 200 queries, k=5, filtered to one version's Russian train rows, as one batch
  (``search_many``: what duplicates and drift use; the filtered points scrolled out once and
  ranked with NumPy) and one query (``search``: explain; Qdrant's local engine,
  ``query_points``). The baseline is a NumPy product over that subset, already in memory,
  plus ``argpartition``.

Everything is brute force here: the ratios are what Qdrant's local mode costs on top of
the arithmetic (filtering and copying points in Python).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bench._common import (
    Figure,
    bench_main,
    format_table,
    median,
    ms,
    ratio,
    scratch_dir,
    timed,
    write_results,
)

NAME = "vector_index"
DIM = 192
SIZES, QUICK_SIZES = (1_000, 10_000, 50_000), (1_000, 5_000)
QUERIES, K = 200, 5


def _points(count: int, rng: np.random.Generator) -> tuple[np.ndarray, list[dict[str, str]]]:
    vectors = rng.standard_normal((count, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    payloads = [
        {
            "kind": "training",
            "version": "1",
            "language": "ru" if i % 2 else "en",
            "split": "train" if i % 5 else "test",
        }
        for i in range(count)
    ]
    return vectors, payloads


def _numpy_search(subset: np.ndarray, queries: np.ndarray) -> np.ndarray:
    scores = queries @ subset.T  # on unit vectors, Euclidean ranks as the dot product does
    return np.argpartition(-scores, K, axis=1)[:, :K]


def _one_size(count: int, root: Any, rng: np.random.Generator) -> dict[str, float]:
    from monitoring.vectors.qdrant import QdrantStore
    from monitoring.vectors.store import Point

    vectors, payloads = _points(count, rng)
    queries = vectors[rng.choice(count, QUERIES, replace=False)] + 0.01
    where = {"kind": "training", "version": "1", "language": "ru", "split": "train"}
    mask = np.asarray([p["language"] == "ru" and p["split"] == "train" for p in payloads])
    with QdrantStore.local(str(root / f"n{count}")) as store:
        store.ensure_collection("bench", DIM)
        points = [
            Point(str(i), v, p) for i, (v, p) in enumerate(zip(vectors, payloads, strict=True))
        ]
        upsert_s, _ = timed(lambda: store.upsert("bench", points))
        batch_s, hits = timed(lambda: store.search_many("bench", queries, K, where))
        single = [timed(lambda q=q: store.search("bench", q, K, where))[0] for q in queries[:5]]
    numpy_s = [timed(lambda: _numpy_search(vectors[mask], queries))[0] for _ in range(3)]
    numpy_single = [
        timed(lambda q=q: _numpy_search(vectors[mask], q[None, :]))[0] for q in queries[:5]
    ]
    assert all(len(found) == K for found in hits)
    return {
        "points": count,
        "upsert_points_per_s": count / upsert_s,
        "batch_ms_per_query": ms(batch_s) / QUERIES,
        "numpy_batch_ms_per_query": ms(median(numpy_s)) / QUERIES,
        "single_ms": ms(median(single)),
        "numpy_single_ms": ms(median(numpy_single)),
    }


def run(quick: bool = False) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    sizes = QUICK_SIZES if quick else SIZES
    with scratch_dir(NAME, 200 * 1_000_000) as root:
        results = [_one_size(count, root, rng) for count in sizes]
    rows = [
        [
            r["points"],
            round(r["upsert_points_per_s"]),
            r["batch_ms_per_query"],
            r["numpy_batch_ms_per_query"],
            ratio(r["batch_ms_per_query"], r["numpy_batch_ms_per_query"]),
            r["single_ms"],
            r["numpy_single_ms"],
            ratio(r["single_ms"], r["numpy_single_ms"]),
        ]
        for r in results
    ]
    print(
        format_table(
            [
                "points",
                "upsert pts/s",
                "batch ms/query",
                "numpy ms/query",
                "ratio",
                "single ms",
                "numpy single ms",
                "ratio",
            ],
            rows,
        )
    )
    largest = results[-1]
    figures = [
        Figure(NAME, f"search one query, {largest['points']} points", largest["single_ms"], "ms"),
        Figure(
            NAME,
            "search vs NumPy brute force (one query, largest)",
            ratio(largest["single_ms"], largest["numpy_single_ms"]),
            "x",
        ),
        Figure(NAME, "batch search per query, largest", largest["batch_ms_per_query"], "ms"),
        Figure(NAME, "upsert", largest["upsert_points_per_s"], "points/s"),
    ]
    data = {"results": results, "rows": rows, "figures": figures}
    write_results(NAME, data)
    return data


def main(argv: Sequence[str] | None = None) -> None:
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
