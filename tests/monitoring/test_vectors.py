"""NLU utterance embeddings in the vector index: a real tiny NLU model (``nlu_good``), real
Qdrant local mode in a temporary folder. The store contract also runs against a Qdrant
server when ``VOICEOPS_QDRANT_URL`` names one that answers (none can run here)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.embedding_drift import gibberish
from monitoring.vectors.embedding_drift import NOVELTY_THRESHOLD, novelty
from monitoring.vectors.index import VersionIndex
from monitoring.vectors.neighbours import near_duplicates, nearest_training
from monitoring.vectors.qdrant import QdrantStore
from monitoring.vectors.store import Point, VectorStore
from training.nlu.embed import NoEmbeddingError, embed_texts


def server_url() -> str:
    """``VOICEOPS_QDRANT_URL`` if a Qdrant server answers there, else skip."""
    import httpx

    url = os.environ.get("VOICEOPS_QDRANT_URL", "")
    if not url:
        pytest.skip("no VOICEOPS_QDRANT_URL: no Qdrant server to test against")
    try:
        httpx.get(f"{url}/readyz", timeout=2).raise_for_status()
    except httpx.HTTPError as error:
        pytest.skip(f"Qdrant at {url} does not answer: {error}")
    return url


@pytest.fixture(params=["local", "server"])
def store(request, tmp_path: Path) -> Iterator[VectorStore]:
    if request.param == "local":
        opened = QdrantStore.local(str(tmp_path / "vectors"))
    else:
        opened = QdrantStore.server(server_url())
    name = f"test_{tmp_path.name}"[:60]
    if opened.client.collection_exists(name):
        opened.client.delete_collection(name)
    opened.test_collection = name  # type: ignore[attr-defined]
    try:
        yield opened
    finally:
        opened.client.delete_collection(name)
        opened.close()


def points(rows: list[tuple[str, list[float], dict[str, Any]]]) -> list[Point]:
    return [Point(key, vector, payload) for key, vector, payload in rows]


def test_store_upsert_search_count_delete_by_filter(store: VectorStore) -> None:
    name = store.test_collection  # type: ignore[attr-defined]
    assert store.count(name) == 0  # no collection yet
    store.ensure_collection(name, 3)
    store.ensure_collection(name, 3)  # exists: nothing changes
    store.upsert(
        name,
        points(
            [
                ("a", [1, 0, 0], {"kind": "training", "version": "1", "language": "ru"}),
                ("b", [0, 1, 0], {"kind": "training", "version": "1", "language": "en"}),
                ("c", [0.9, 0.1, 0], {"kind": "training", "version": "2", "language": "ru"}),
                ("d", [0, 0, 1], {"kind": "production", "version": "1", "language": "ru"}),
            ]
        ),
    )
    assert store.count(name) == 4
    assert store.count(name, {"version": "1", "language": "ru"}) == 2
    hits = store.search(name, [1, 0.05, 0], 2)
    assert [hit.id for hit in hits] == ["a", "c"]
    assert hits[0].distance < hits[1].distance
    assert hits[0].payload == {"kind": "training", "version": "1", "language": "ru"}
    np.testing.assert_allclose(hits[0].vector, [1, 0, 0], atol=1e-6)
    only_v2 = store.search(name, [1, 0, 0], 5, {"version": "2"})
    assert [hit.id for hit in only_v2] == ["c"]
    many = store.search_many(name, np.asarray([[0, 1, 0], [0, 0, 1]], np.float32), 1)
    assert [[hit.id for hit in hits] for hits in many] == [["b"], ["d"]]

    store.upsert(name, points([("a", [0, 0, 1], {"kind": "training", "version": "1"})]))
    assert store.count(name) == 4  # same key: replaced
    assert store.search(name, [0, 0, 1], 1, {"kind": "training"})[0].id == "a"

    store.delete(name, {"kind": "training", "version": "1"})
    assert store.count(name) == 2
    hits, vectors = store.vectors(name, {"version": "2"})
    assert [hit.id for hit in hits] == ["c"] and vectors.shape == (1, 3)
    store.delete(f"{name}_missing", {"version": "1"})  # no collection: nothing to delete


def test_local_search_ranks_exactly_as_the_qdrant_engine(tmp_path: Path) -> None:
    """Local mode ranks a batch in one NumPy product; Qdrant's own search must agree."""
    from monitoring.vectors.qdrant import KEY, LOCAL_BATCH, _filter

    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((300, 8)).astype(np.float32)
    where = {"language": "ru"}
    with QdrantStore.local(str(tmp_path / "vectors")) as store:
        store.ensure_collection("c", 8)
        rows = [
            Point(str(i), v, {"language": "ru" if i % 3 else "en"}) for i, v in enumerate(vectors)
        ]
        store.upsert("c", rows)
        queries = rng.standard_normal((20, 8)).astype(np.float32)
        assert len(queries) >= LOCAL_BATCH
        ours = store.search_many("c", queries, 7, where)
        for query, hits in zip(queries, ours, strict=True):
            engine = store.client.query_points(
                "c", query=query.tolist(), limit=7, query_filter=_filter(where), with_payload=True
            ).points
            assert [hit.id for hit in hits] == [point.payload[KEY] for point in engine]
            expected = [point.score for point in engine]
            assert [hit.distance for hit in hits] == pytest.approx(expected, abs=1e-4)
            assert all(hit.payload["language"] == "ru" for hit in hits)


# --------------------------------------------------------------------------- embeddings


def test_embeddings_are_the_same_from_the_saved_model_and_in_process(nlu_good) -> None:
    from training.nlu.export import load

    texts = [row["text"] for row in nlu_good.rows[:7]]
    saved = embed_texts(load(nlu_good.model_path), texts)
    in_process = embed_texts(nlu_good.serving, texts)
    assert saved.shape == (7, 2 * nlu_good.config.encoder_units)
    np.testing.assert_allclose(saved, in_process, atol=1e-5)
    assert len({tuple(np.round(row, 5)) for row in saved}) == 7  # one vector per utterance
    np.testing.assert_allclose(embed_texts(nlu_good.serving, texts, batch_size=3), saved, atol=1e-5)
    with pytest.raises(NoEmbeddingError, match="retrain"):
        embed_texts(object(), texts)


@pytest.fixture(scope="module")
def index(nlu_good, tmp_path_factory) -> Iterator[VersionIndex]:
    with QdrantStore.local(str(tmp_path_factory.mktemp("vectors"))) as store:
        built = VersionIndex(store, nlu_good.serving, "7")
        built.add("training", nlu_good.rows)
        yield built


def test_training_rows_are_indexed_per_split_and_language_and_reindexing_replaces(
    index: VersionIndex, nlu_good
) -> None:
    train = [row for row in nlu_good.rows if row["split"] == "train"]
    assert index.count("training") == len(nlu_good.rows)
    assert index.count("training", split="train") == len(train)
    ru = sum(1 for row in train if row["language"] == "ru")
    assert index.count("training", split="train", language="ru") == ru
    index.add("training", nlu_good.rows)
    assert index.count("training") == len(nlu_good.rows)
    other = VersionIndex(index.store, index.model, "8")  # another version: its own points
    assert other.count("training") == 0
    with pytest.raises(LookupError, match="no training rows"):
        other.embed(["hello"])


def test_a_train_utterance_is_its_own_nearest_example(index: VersionIndex, nlu_good) -> None:
    row = next(r for r in nlu_good.rows if r["split"] == "train" and r["language"] == "ru")
    neighbours = nearest_training(index, row["text"], "ru", k=5)
    assert len(neighbours) == 5
    assert neighbours[0].row["text"] == row["text"]
    assert neighbours[0].row["intent"] == row["intent"]
    assert neighbours[0].similarity == pytest.approx(1.0, abs=1e-4)
    assert all(n.row["language"] == "ru" and n.row["split"] == "train" for n in neighbours)
    similarities = [n.similarity for n in neighbours]
    assert similarities == sorted(similarities, reverse=True) and similarities[-1] < 0.99


def test_near_duplicates_between_train_and_test_are_found(nlu_good, tmp_path: Path) -> None:
    train = [row for row in nlu_good.rows if row["split"] == "train"]
    copied = next(row for row in train if row["language"] == "en")
    # the same words with other spacing: another example_id, the same tokens
    planted = copied | {"example_id": "planted", "split": "test", "text": copied["text"] + "  "}
    with QdrantStore.local(str(tmp_path / "vectors")) as store:
        index = VersionIndex(store, nlu_good.serving, "1")
        index.add("training", nlu_good.rows)
        before = near_duplicates(index, 0.999)
        index.add("training", [*nlu_good.rows, planted])
        after = near_duplicates(index, 0.999)
        loose = near_duplicates(index, -1.0)  # every test row has a nearest train row
    assert len(after["en"]) == len(before["en"]) + 1
    assert len(after["ru"]) == len(before["ru"])
    found = next(pair for pair in after["en"] if pair.held_out["text"] == planted["text"])
    assert found.train["text"] == copied["text"] and found.similarity > 0.999
    assert {lang: len(pairs) for lang, pairs in loose.items()} == {
        "ru": held_out_count(nlu_good.rows, "ru"),
        "en": held_out_count(nlu_good.rows, "en") + 1,
    }


def held_out_count(rows: list[dict[str, Any]], language: str) -> int:
    return sum(1 for row in rows if row["split"] == "test" and row["language"] == language)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_novelty_is_low_for_new_phrasings_of_known_intents_and_high_for_gibberish(
    index: VersionIndex, language: str
) -> None:
    from training.nlu.synthetic import synthetic_rows

    fresh = synthetic_rows(12, seed=11)  # other utterances of the same phrasebook
    like_training = novelty(index, fresh, language)
    drifted = novelty(index, gibberish(language, 120), language)
    assert like_training is not None and drifted is not None
    assert like_training.novel_share < NOVELTY_THRESHOLD
    assert drifted.novel_share > 0.5
    assert drifted.production_mean_distance > like_training.production_mean_distance
    assert drifted.radius == like_training.radius  # measured on the held-out rows alone
    assert len(drifted.novel_examples) == 3
    assert novelty(index, fresh[:10], language) is None  # under min_values


def test_a_local_index_open_in_another_client_is_a_clear_error(tmp_path: Path) -> None:
    from core.settings import Settings
    from monitoring.vectors.qdrant import VectorStoreBusyError, open_store

    settings = Settings(home=tmp_path / "home", qdrant_url="")
    with open_store(settings) as first:
        with pytest.raises(VectorStoreBusyError, match="another process"):
            open_store(settings)
        assert first.description.startswith("Qdrant local mode")
    open_store(settings).close()  # released with the first
