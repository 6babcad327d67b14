"""The commit tree: canonical (history-independent), correct, and sharing unchanged nodes."""

from __future__ import annotations

import random

from versioning.lake.local import tree


def _store() -> tuple[tree.NodeStore, dict[str, bytes]]:
    saved: dict[str, bytes] = {}
    return tree.NodeStore(saved.get), saved


def _value(i: int) -> tree.Value:
    return [f"{i:064x}", i, 0.0, "application/octet-stream", {}]


def test_updates_give_the_same_tree_as_building_from_scratch() -> None:
    store, saved = _store()
    rng = random.Random(7)
    truth: dict[str, tree.Value] = {}
    root = tree.EMPTY
    for step in range(120):
        changes: dict[str, tree.Value | None] = {}
        for _ in range(rng.choice([1, 3, 40, 400])):
            key = f"raw/{rng.randrange(4000):05d}"
            changes[key] = None if rng.random() < 0.3 else _value(rng.randrange(10**6))
        root = tree.update(store, root, changes)
        saved.update(store.drain_pending())
        for key, value in changes.items():
            if value is None:
                truth.pop(key, None)
            else:
                truth[key] = value
        if step % 10 == 9:
            assert tree.build(store, truth) == root  # canonical: history does not matter
            saved.update(store.drain_pending())
            assert dict(tree.iterate(store, root)) == truth
            assert tree.count(store, root) == len(truth)
            for key in rng.sample(sorted(truth), 20):
                assert tree.lookup(store, root, key) == truth[key]
    root = tree.update(store, root, dict.fromkeys(truth))
    assert root == tree.EMPTY


def test_diff_lists_exactly_the_changed_keys_and_respects_a_prefix() -> None:
    store, saved = _store()
    left = tree.build(store, {f"k/{i:05d}": _value(i) for i in range(20000)})
    changes: dict[str, tree.Value | None] = {f"k/{i:05d}": _value(-i) for i in range(5, 20000, 997)}
    changes["k/00003"] = None
    changes["z/new"] = _value(1)
    right = tree.update(store, left, changes)
    saved.update(store.drain_pending())
    diff = list(tree.diff(store, left, right))
    assert [d[0] for d in diff] == sorted(changes)
    assert [d[0] for d in tree.diff(store, left, right, prefix="z/")] == ["z/new"]
    assert list(tree.diff(store, right, right)) == []


def test_a_diff_of_a_small_change_reads_few_nodes() -> None:
    saved: dict[str, bytes] = {}
    reads: list[str] = []

    def load(nid: str) -> bytes | None:
        reads.append(nid)
        return saved.get(nid)

    writer = tree.NodeStore(saved.get)
    left = tree.build(writer, {f"k/{i:06d}": _value(i) for i in range(50000)})
    right = tree.update(writer, left, {"k/025000": _value(-1)})
    saved.update(writer.drain_pending())
    reader = tree.NodeStore(load)  # a cold cache: every node read is counted
    assert [d[0] for d in tree.diff(reader, left, right)] == ["k/025000"]
    assert len(reads) <= 2 * (tree.height(reader, left) + 1)


def test_iterate_from_a_start_key_and_stop_before_another() -> None:
    store, _ = _store()
    root = tree.build(store, {f"p/{i:04d}": _value(i) for i in range(3000)})
    keys = [k for k, _ in tree.iterate(store, root, "p/1000", "p/1010")]
    assert keys == [f"p/{i:04d}" for i in range(1000, 1010)]


def test_an_update_reads_its_nodes_in_one_batch_per_level() -> None:
    """With ``load_many``, a commit's nodes come a level at a time, not one query per node,
    and the tree is the same as without it."""
    saved: dict[str, bytes] = {}
    batches: list[list[str]] = []
    singles: list[str] = []

    def load_many(nids: list[str]) -> dict[str, bytes]:
        batches.append(nids)
        return {nid: saved[nid] for nid in nids if nid in saved}

    def load(nid: str) -> bytes | None:
        singles.append(nid)
        return saved.get(nid)

    writer = tree.NodeStore(saved.get)
    root = tree.build(writer, {f"k/{i:06d}": _value(i) for i in range(20000)})
    saved.update(writer.drain_pending())
    rng = random.Random(3)
    changes: dict[str, tree.Value | None] = {
        f"k/{i:06d}": _value(-i) for i in rng.sample(range(20000), 200)
    }
    changes.update({f"k/{i:06d}": None for i in rng.sample(range(20000), 20)})
    expected = tree.update(tree.NodeStore(saved.get), root, changes)
    batched = tree.NodeStore(load, load_many=load_many)
    assert tree.update(batched, root, changes) == expected
    assert len(batches) == tree.height(batched, root) + 1
    assert len(batches[-1]) > 50  # the leaves, all in the last batch
    assert len(singles) <= 5  # only nodes merged with a neighbour come one by one


def test_the_candidate_cut_points_give_the_same_nodes_as_asking_every_key() -> None:
    store, _ = _store()
    keys = [f"c/{i:05d}" for i in range(5000)]
    values = [_value(i) for i in range(5000)]
    everywhere = tree._chunk(store, 0, keys, values)
    closing = [key for key in keys[:-1] if tree.is_boundary(key, 0)]
    assert len(everywhere) == len(closing) + 1 > 20
    assert tree._chunk(store, 0, keys, values, candidates=[*closing, keys[7], "x"]) == everywhere
    whole = tree.Node(0, keys, values)
    assert tree._chunk(store, 0, keys, values, candidates=[]) == [
        (keys[-1], [tree.node_id(whole.encode()), 5000, whole.total_bytes])
    ]
