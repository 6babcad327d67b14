"""The commit tree: canonical (history-independent), correct, and sharing unchanged nodes."""

from __future__ import annotations

import json
import math
import random
import struct
import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import pytest

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


# ---- the node encoding: orjson where it writes the stdlib's bytes, the stdlib elsewhere --------

#: The canonical encoder as it was before orjson: node ids are SHA-256 of its output.
STDLIB = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
KEY_PARTS = ["raw", "звонки", "通話", "😀", 'q"uote', "back\\slash", "tab\there", "nl\nx"]
KEY_PARTS += ["nul\x00", "del\x7f", "ls\u2028", "é", "a b"]


def corpus_value(rng: random.Random) -> tree.Value:
    """A leaf value, mostly as the lake stores them, often with the awkward cases: ints at
    and beyond 64 bits, floats in every spelling (tiny, huge, -0.0, any bit pattern), an int
    mtime, nested metadata with None and bools, non-ASCII everywhere."""
    sizes = [0, 1, 200, 2**31, 2**63 - 1, 2**64 - 1, 2**64, 2**70, -1, -(2**63), -(2**63) - 1]
    mtimes = [1.7e9 + rng.random(), 0.0, -0.0, 1e-05, 2.5e-07, 1e-4, 0.00012, 1e16, 1.5e17]
    mtimes += [9.3e18, 1e300, 5e-324, -1.5, 7, 123.456]
    metas = [
        {},
        {"k": "v"},
        {"ключ": "значение", "emoji": "😀"},
        {"nested": {"a": [1, 2.5, None, True, False, "x"]}},
        {"none": None, "bool": True, "f": 1e-06},
    ]
    r = rng.random()
    size = rng.choice(sizes) if r < 0.2 else rng.randrange(10**6)
    mtime = rng.choice(mtimes) if r > 0.7 else 1.7e9 + rng.random() * 1e7
    meta = rng.choice(metas) if rng.random() < 0.3 else {}
    if rng.random() < 0.05:
        mtime = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if not math.isfinite(mtime):
            mtime = 1.0
    checksum = f"{rng.getrandbits(256):064x}"
    content_type = rng.choice(["application/json", "text/plain; charset=utf-8", "аудио/wav"])
    return [checksum, size, mtime, content_type, meta]


def corpus(seed: int, n: int) -> dict[str, tree.Value]:
    rng = random.Random(seed)
    items = {}
    for i in range(n):
        parts = [rng.choice(KEY_PARTS) for _ in range(rng.randrange(1, 4))]
        items["/".join(parts) + f"/{i:05d}"] = corpus_value(rng)
    return items


def lake_corpus(seed: int, n: int) -> dict[str, tree.Value]:
    """Entries as the lake writes them (the nodes orjson encodes): str -> str metadata,
    int sizes, time.time() mtimes, non-ASCII and escaped characters in keys and metadata."""
    rng = random.Random(seed)
    items = {}
    for i in range(n):
        day = rng.randrange(1, 31)
        key = f"raw/{rng.choice(KEY_PARTS)}/dt=2026-01-{day:02d}/part-{i:06d}.json"
        meta = rng.choice([{}, {}, {"source": "звонки", "q": 'a"b\\c\n'}, {"k": "😀"}])
        mtime = 1.7e9 + rng.random() * 1e8
        items[key] = [f"{rng.getrandbits(256):064x}", rng.randrange(10**7), mtime, "a/b", meta]
    return items


@pytest.mark.parametrize(
    ("make", "seed", "built", "updated"),
    [
        (
            corpus,
            15,
            "917bd98c60fe97b2840cfd950c7645e0f9044a739ee0d1f6f191d3901e2c9c1b",
            "91c19744552fe667217faeeb4910287eec4f9eea1f084f7051e00aae48e634f8",
        ),
        (
            lake_corpus,
            17,
            "c4fcbf53f0b48053c2cdcd621c83c8b2a85075769d6a3d084a7dc4b1dcdd635d",
            "c2627862622533746dc449cc56f915748aed1142f59b87252c77349017271a30",
        ),
    ],
)
def test_tree_ids_are_those_of_the_stdlib_encoding(
    make: Callable[[int, int], dict[str, tree.Value]], seed: int, built: str, updated: str
) -> None:
    """The roots of a varied tree and of an update of it, as the lake computed them before
    nodes went through orjson (ids from the stdlib encoder, recorded)."""
    store, saved = _store()
    items = make(seed, 3000)
    root = tree.build(store, items)
    saved.update(store.drain_pending())
    assert root == built
    rng = random.Random(seed + 1)
    keys = sorted(items)
    new = make(seed + 2, 60)
    changed = rng.sample(keys, 60)
    changes: dict[str, tree.Value | None] = dict(zip(changed, new.values(), strict=True))
    changes.update(dict.fromkeys(rng.sample(keys, 20)))
    changes.update(dict(list(new.items())[:10]))  # new keys too
    assert tree.update(store, root, changes) == updated
    saved.update(store.drain_pending())
    for nid, data in saved.items():  # every node: the stdlib's bytes, read back to its values
        node = tree.Node.decode(data)
        entries = [[k, *v] for k, v in zip(node.keys, node.values, strict=True)]
        assert STDLIB.encode({"level": node.level, "entries": entries}).encode() == data
        assert {"level": node.level, "entries": entries} == json.loads(data)
        assert tree.node_id(node.encode()) == nid


@pytest.mark.parametrize("seed", range(4))
def test_node_bytes_and_values_equal_the_stdlib_s(seed: int) -> None:
    rng = random.Random(seed)
    values = list(corpus(seed, 400).values())
    odd = [
        [[1, 2], {"x": (1, 2)}],  # a tuple is written as a list
        ["s", 2**64, 1e-5, float("nan"), float("inf"), -float("inf")],
        [True, False, None, "", "\u2028\x1f"],
        [struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(30)],
    ]
    for level, chunk in [(0, values[i : i + 40]) for i in range(0, 400, 40)] + [(1, odd)]:
        keys = sorted(f"k{i:03d}-ü" for i in range(len(chunk)))
        node = tree.Node(level, keys, chunk)
        entries = [[k, *v] for k, v in zip(keys, chunk, strict=True)]
        expected = STDLIB.encode({"level": level, "entries": entries}).encode("utf-8")
        assert node.encode() == expected
        decoded = tree.Node.decode(expected)
        reference = json.loads(expected)
        assert decoded.keys == [e[0] for e in reference["entries"]]
        assert repr(decoded.values) == repr([e[1:] for e in reference["entries"]])  # NaN, -0.0
        assert [type(x) for v in decoded.values for x in v] == [
            type(x) for e in reference["entries"] for x in e[1:]
        ]


def test_what_orjson_cannot_write_as_the_stdlib_does_is_left_to_the_stdlib() -> None:
    """Values the stdlib refuses are still refused (not written by orjson some other way)."""
    for value in (uuid.uuid4(), datetime.now(), "\ud800", {1: "int key"}, Decimal("1.5")):
        node = tree.Node(0, ["k"], [["c", 1, 1.0, "t", {"v": value}]])
        try:
            expected: bytes | type[Exception] = STDLIB.encode(
                {"level": 0, "entries": [["k", "c", 1, 1.0, "t", {"v": value}]]}
            ).encode()
        except (TypeError, ValueError) as error:
            expected = type(error)
        if isinstance(expected, bytes):
            assert node.encode() == expected
        else:
            with pytest.raises(expected):
                node.encode()


def test_an_int_beyond_64_bits_is_read_as_an_int() -> None:
    data = b'{"level":0,"entries":[["k","c",18446744073709551616,1e-05,"t",'
    data += b'{"n":-9223372036854775809}]]}'
    node = tree.Node.decode(data)
    assert node.values == [["c", 2**64, 1e-05, "t", {"n": -(2**63) - 1}]]
    assert type(node.values[0][1]) is int
    assert node.encode() == data


@pytest.mark.parametrize("odd", [float("nan"), float("inf"), -float("inf"), 1e-05, -2.0, 2.0**63])
@pytest.mark.parametrize("at", [0, 1, 5])
def test_one_odd_float_among_usual_leaves_is_written_by_the_stdlib(odd: float, at: int) -> None:
    values = [["c" * 64, 200, 1.7e9 + i, "application/json", {}] for i in range(6)]
    values[at][2] = odd
    keys = [f"k{i}" for i in range(6)]
    entries = [[k, *v] for k, v in zip(keys, values, strict=True)]
    expected = STDLIB.encode({"level": 0, "entries": entries}).encode()
    assert tree.Node(0, keys, values).encode() == expected
