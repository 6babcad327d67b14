"""A canonical Merkle search tree ("prolly tree") of sorted path -> entry mappings.

The local lake stores every commit's listing in this tree, the way lakeFS stores ranges
under a metarange. Node boundaries depend only on the keys (a key closes a node at level L
when its salted hash falls under 1/FANOUT), so the same set of entries always gives the
same tree, unchanged nodes keep their ids, and:

* a commit rewrites only the nodes on the paths to the changed keys (cost grows with the
  size of the change, not of the repository);
* a diff skips every subtree whose id is equal on both sides.

Nodes are JSON documents addressed by their SHA-256 and never change once written.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import orjson

FANOUT = 64
_THRESHOLD = (1 << 64) // FANOUT
EMPTY = ""

#: The canonical node encoding (compact JSON, UTF-8 kept): node ids are hashes of it.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)

# Node bytes through orjson (~10x faster than the stdlib), never different bytes or values:
#
# * Encoding: orjson writes the bytes of :data:`_ENCODER` for "plain" values (:func:`_plain`):
#   str, bool, None, ints of 64 bits, lists, tuples, dicts with str keys, and floats that are 0
#   or of magnitude in [1e-4, 2**63). Elsewhere they differ: below 1e-4 the exponent is spelt
#   otherwise (1e-05 / 1e-5), NaN and infinities become null, ints beyond 64 bits and non-str
#   keys are refused, UUIDs, enums, dataclasses and datetimes are written where the stdlib
#   refuses them. Any node that is not plain (or that orjson refuses, e.g. a lone surrogate)
#   is encoded by the stdlib, as before.
# * Decoding: orjson reads an int beyond 64 bits as a float, and its floats may in principle
#   differ from the stdlib's. A body is kept only if orjson writes it back to the very bytes it
#   was read from: then json.loads reads the same values (ints of 64 bits are exact, floats
#   come back from their shortest round-trip spelling); otherwise json.loads reads it.
_INT_MIN, _INT_MAX = -(1 << 63), 1 << 64
_FLOAT_MIN, _FLOAT_MAX = 1e-4, float(1 << 63)
#: Types orjson would write where the stdlib refuses them (or writes them as their base type)
#: are refused instead, so that the stdlib handles them.
_ORJSON_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _plain(value: Any) -> bool:
    """Whether orjson encodes ``value`` exactly as :data:`_ENCODER` does."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return _INT_MIN <= value < _INT_MAX
    if kind is float:
        return value == 0.0 or _FLOAT_MIN <= abs(value) < _FLOAT_MAX
    if kind is list or kind is tuple:
        return all(map(_plain, value))
    if kind is dict:
        return all(type(key) is str for key in value) and all(map(_plain, value.values()))
    return False


def _plain_entries(keys: list[Any], values: list[Any]) -> bool:
    """:func:`_plain` for a node's entries, column by column at C speed for the usual
    shapes (a leaf value ``[checksum, size, mtime, content_type, metadata]``, an internal
    one ``[child_id, count, bytes]``), value by value otherwise."""
    try:
        if keys and not _strs(keys):
            return False
        if values and set(map(type, values)) == _LIST:
            columns = list(zip(*values, strict=True))
            if len(columns) == 5:
                checksums, sizes, mtimes, ctypes, metas = columns
                if (
                    _strs(checksums)
                    and _strs(ctypes)
                    and _ints(sizes)
                    and set(map(type, mtimes)) == _FLOAT
                    and math.isfinite(sum(mtimes))  # no NaN (which min and max may miss)
                    and min(mtimes) >= _FLOAT_MIN
                    and max(mtimes) < _FLOAT_MAX
                    and set(map(type, metas)) == _DICT
                    and (not any(metas) or all(map(_plain, metas)))
                ):
                    return True
            elif len(columns) == 3:
                children, counts, sizes = columns
                if _strs(children) and _ints(counts) and _ints(sizes):
                    return True
        return all(map(_plain, values))
    except ValueError:  # values of different lengths: not a usual shape
        return all(map(_plain, values))
    except RecursionError:  # deeper than anything stored: left to the stdlib
        return False


_LIST, _STR, _INT, _FLOAT, _DICT = {list}, {str}, {int}, {float}, {dict}


def _strs(column: tuple[Any, ...]) -> bool:
    return set(map(type, column)) == _STR


def _ints(column: tuple[Any, ...]) -> bool:
    return set(map(type, column)) == _INT and min(column) >= _INT_MIN and max(column) < _INT_MAX


def encode_node(level: int, keys: list[str], values: list[Value]) -> bytes:
    """The canonical bytes of a node (:data:`_ENCODER`'s output; node ids are their hash)."""
    body = {"level": level, "entries": [[k, *v] for k, v in zip(keys, values, strict=True)]}
    if type(level) is int and _plain_entries(keys, values):
        try:
            return orjson.dumps(body, option=_ORJSON_OPTIONS)
        except TypeError:  # e.g. a lone surrogate: the stdlib reports it as before
            pass
    return _ENCODER.encode(body).encode("utf-8")


def decode_node(data: bytes) -> Any:
    """``json.loads(data)``: through orjson when it gives the same values."""
    try:
        body = orjson.loads(data)
        if orjson.dumps(body) == data:
            return body
    except (orjson.JSONDecodeError, TypeError):  # NaN, Infinity, other encodings, ...
        pass
    return json.loads(data)


#: Parts of an entry or a value, taken at C speed.
_FIRST, _SECOND, _THIRD = itemgetter(0), itemgetter(1), itemgetter(2)
_REST = itemgetter(slice(1, None))

#: A leaf value: [checksum, size, mtime, content_type, metadata]; an internal value:
#: [child_id, entry_count, total_bytes].
Value = list[Any]


def is_boundary(key: str, level: int) -> bool:
    """Whether ``key`` closes a node at ``level`` (a different salt per level)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8, salt=level.to_bytes(16, "big"))
    return int.from_bytes(digest.digest(), "big") < _THRESHOLD


@dataclass(frozen=True)
class Node:
    level: int
    keys: list[str]
    values: list[Value]

    @property
    def count(self) -> int:
        if self.level == 0:
            return len(self.keys)
        return sum(map(_SECOND, self.values))

    @property
    def total_bytes(self) -> int:
        return sum(map(_SECOND if self.level == 0 else _THIRD, self.values))

    def encode(self) -> bytes:
        return encode_node(self.level, self.keys, self.values)

    @staticmethod
    def decode(data: bytes) -> Node:
        body = decode_node(data)
        entries = body["entries"]
        return Node(body["level"], list(map(_FIRST, entries)), list(map(_REST, entries)))


def node_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class NodeCache:
    """A thread-safe LRU of decoded nodes, shared by every reader of a repository."""

    def __init__(self, size: int = 8192):
        self._nodes: OrderedDict[str, Node] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, nid: str) -> Node | None:
        with self._lock:
            node = self._nodes.get(nid)
            if node is not None:
                self._nodes.move_to_end(nid)
            return node

    def put(self, nid: str, node: Node) -> None:
        with self._lock:
            self._nodes[nid] = node
            if len(self._nodes) > self._size:
                self._nodes.popitem(last=False)


class NodeStore:
    """Reads nodes through a shared cache; buffers the nodes it creates until drained.

    Use one ``NodeStore`` per write operation so concurrent writers never mix their nodes.
    ``load_many`` (ids -> {id: bytes} of those found) lets :meth:`prefetch` read a batch of
    nodes in one query instead of one query per node.
    """

    def __init__(
        self,
        load: Callable[[str], bytes | None],
        cache: NodeCache | None = None,
        load_many: Callable[[list[str]], Mapping[str, bytes]] | None = None,
    ):
        self._load = load
        self._load_many = load_many
        self._cache = cache if cache is not None else NodeCache()
        self._pending: dict[str, bytes] = {}

    def prefetch(self, nids: Iterable[str]) -> None:
        """Put the nodes among ``nids`` that are not cached yet into the cache, in one batch
        (without ``load_many``, :meth:`get` loads them one by one when asked)."""
        if self._load_many is None:
            return
        missing = [n for n in dict.fromkeys(nids) if n != EMPTY and not self._known(n)]
        if missing:
            for nid, data in self._load_many(missing).items():
                self._cache.put(nid, Node.decode(data))

    def _known(self, nid: str) -> bool:
        return nid in self._pending or self._cache.get(nid) is not None

    def get(self, nid: str) -> Node:
        node = self._cache.get(nid)
        if node is not None:
            return node
        data = self._pending.get(nid)
        if data is None:
            data = self._load(nid)
        if data is None:
            raise KeyError(f"tree node {nid} is missing")
        node = Node.decode(data)
        self._cache.put(nid, node)
        return node

    def put(self, node: Node) -> str:
        data = node.encode()
        nid = node_id(data)
        self._pending[nid] = data
        self._cache.put(nid, node)
        return nid

    def drain_pending(self) -> dict[str, bytes]:
        pending, self._pending = self._pending, {}
        return pending


# ---- building ------------------------------------------------------------------------------


def _chunk(
    store: NodeStore,
    level: int,
    keys: list[str],
    values: list[Value],
    boundary: Callable[[str], bool] | None = None,
    candidates: Iterable[str] | None = None,
) -> list[tuple]:
    """Split sorted entries into nodes at key boundaries; returns parent entries.

    ``boundary`` may answer for keys whose status is already known (saves hashing);
    ``candidates`` (when given) are the only keys that may close a node before the last one,
    so the others are not even asked about.
    """
    closes = boundary or (lambda key: is_boundary(key, level))
    if candidates is None:
        cuts: Iterable[int] = range(len(keys))
    else:
        at = ((bisect_left(keys, key), key) for key in candidates)
        cuts = sorted({i for i, key in at if i < len(keys) and keys[i] == key})
    out: list[tuple] = []
    start = 0
    last = len(keys) - 1
    for i in cuts:
        if i < last and closes(keys[i]):
            out.append(_node_entry(store, level, keys[start : i + 1], values[start : i + 1]))
            start = i + 1
    if keys:
        out.append(_node_entry(store, level, keys[start:], values[start:]))
    return out


def _node_entry(store: NodeStore, level: int, keys: list[str], values: list[Value]) -> tuple:
    """Store a node; its entry in the level above: (last key, [id, count, bytes])."""
    node = Node(level, keys, values)
    return keys[-1], [store.put(node), node.count, node.total_bytes]


def _finish(store: NodeStore, level: int, parents: list[tuple]) -> str:
    """Stack parent levels on top of ``parents`` until one root remains."""
    while len(parents) > 1:
        level += 1
        parents = _chunk(store, level, [p[0] for p in parents], [p[1] for p in parents])
    if not parents:
        return EMPTY
    root = parents[0][1][0]
    return _collapse(store, root)


def _collapse(store: NodeStore, root: str) -> str:
    """A root with a single child is not canonical: the child is the root."""
    while root != EMPTY:
        node = store.get(root)
        if node.level == 0 or len(node.keys) != 1:
            break
        root = node.values[0][0]
    return root


def build(store: NodeStore, items: Mapping[str, Value]) -> str:
    keys = sorted(items)
    return _finish(store, 0, _chunk(store, 0, keys, [items[k] for k in keys]) if keys else [])


# ---- reading -------------------------------------------------------------------------------


def height(store: NodeStore, root: str) -> int:
    return -1 if root == EMPTY else store.get(root).level


def _descend(store: NodeStore, root: str, level: int, key: str, strict: bool) -> tuple[Node, bool]:
    """The node at ``level`` holding ``key`` (first with last key >= key, or > key if
    ``strict``), or the last node; and whether it is the last node of its level."""
    node = store.get(root)
    is_last = True
    while node.level > level:
        find = bisect_right if strict else bisect_left
        idx = min(find(node.keys, key), len(node.keys) - 1)
        is_last = is_last and idx == len(node.keys) - 1
        node = store.get(node.values[idx][0])
    return node, is_last


def lookup(store: NodeStore, root: str, key: str) -> Value | None:
    if root == EMPTY:
        return None
    node, _ = _descend(store, root, 0, key, strict=False)
    idx = bisect_left(node.keys, key)
    if idx < len(node.keys) and node.keys[idx] == key:
        return node.values[idx]
    return None


def count(store: NodeStore, root: str) -> int:
    return 0 if root == EMPTY else store.get(root).count


class _Cursor:
    """In-order walk over a tree that can skip or expand whole subtrees."""

    def __init__(self, store: NodeStore, root: str):
        self._store = store
        self._stack: list[list] = []
        if root != EMPTY:
            self._stack.append([[("n", root, store.get(root).level, None)], 0])

    def peek(self) -> tuple | None:
        while self._stack:
            items, idx = self._stack[-1]
            if idx < len(items):
                return items[idx]
            self._stack.pop()
        return None

    def pop(self) -> None:
        self._stack[-1][1] += 1

    def expand(self) -> None:
        """Replace the node at the cursor by its entries."""
        item = self.peek()
        assert item is not None and item[0] == "n"
        self.pop()
        node = self._store.get(item[1])
        if node.level == 0:
            children = [("e", k, v) for k, v in zip(node.keys, node.values, strict=True)]
        else:
            children = [
                ("n", v[0], node.level - 1, k) for k, v in zip(node.keys, node.values, strict=True)
            ]
        self._stack.append([children, 0])

    def seek(self, start: str) -> None:
        """Skip everything before ``start``."""
        while (item := self.peek()) is not None:
            if item[0] == "e":
                if item[1] >= start:
                    return
                self.pop()
            elif item[3] is not None and item[3] < start:
                self.pop()
            else:
                self.expand()


def prefix_end(prefix: str) -> str | None:
    """The smallest key greater than every key starting with ``prefix`` (None: unbounded)."""
    if not prefix:
        return None
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def iterate(store: NodeStore, root: str, start: str = "", stop: str | None = None) -> Iterator:
    """(key, value) for keys in [start, stop), in order."""
    cursor = _Cursor(store, root)
    cursor.seek(start)
    while (item := cursor.peek()) is not None:
        if item[0] == "n":
            cursor.expand()
            continue
        if stop is not None and item[1] >= stop:
            return
        yield item[1], item[2]
        cursor.pop()


def walk_nodes(store: NodeStore, root: str, seen: set[str]) -> Iterator[tuple[str, Node]]:
    """Every node of the tree not in ``seen`` (which is updated), parents first."""
    if root == EMPTY or root in seen:
        return
    todo = [root]
    seen.add(root)
    while todo:
        nid = todo.pop()
        node = store.get(nid)
        yield nid, node
        if node.level > 0:
            for value in node.values:
                if value[0] not in seen:
                    seen.add(value[0])
                    todo.append(value[0])


# ---- diff ----------------------------------------------------------------------------------


def diff(
    store: NodeStore,
    left: str,
    right: str,
    prefix: str = "",
    same: Callable[[Value, Value], bool] | None = None,
) -> Iterator[tuple[str, Value | None, Value | None]]:
    """(key, left value, right value) for every key whose value differs, in key order.

    Equal subtrees (same node id) are skipped without being read.
    """
    same = same or (lambda a, b: a == b)
    a, b = _Cursor(store, left), _Cursor(store, right)
    if prefix:
        a.seek(prefix)
        b.seek(prefix)
    stop = prefix_end(prefix)
    while True:
        x, y = a.peek(), b.peek()
        if x is not None and x[0] == "e" and stop is not None and x[1] >= stop:
            x = None
        if y is not None and y[0] == "e" and stop is not None and y[1] >= stop:
            y = None
        if x is None and y is None:
            return
        if x is not None and y is not None and x[0] == "n" and y[0] == "n":
            if x[1] == y[1]:
                a.pop()
                b.pop()
            else:
                if x[2] >= y[2]:
                    a.expand()
                if y[2] >= x[2]:
                    b.expand()
            continue
        if x is not None and x[0] == "n":
            a.expand()
            continue
        if y is not None and y[0] == "n":
            b.expand()
            continue
        if y is None or (x is not None and x[1] < y[1]):
            yield x[1], x[2], None
            a.pop()
        elif x is None or y[1] < x[1]:
            yield y[1], None, y[2]
            b.pop()
        else:
            if not same(x[2], y[2]):
                yield x[1], x[2], y[2]
            a.pop()
            b.pop()


# ---- updating ------------------------------------------------------------------------------


def _apply(
    keys: list[str],
    values: list[Value],
    changes: Mapping[str, Value | None],
    change_keys: list[str],
) -> tuple[list[str], list[Value]]:
    """Merge sorted ``change_keys`` (value None = delete) into sorted entries."""
    out_k: list[str] = []
    out_v: list[Value] = []
    i = 0
    for key in change_keys:
        j = bisect_left(keys, key, i)
        out_k += keys[i:j]
        out_v += values[i:j]
        if j < len(keys) and keys[j] == key:
            j += 1
        new = changes[key]
        if new is not None:
            out_k.append(key)
            out_v.append(new)
        i = j
    out_k += keys[i:]
    out_v += values[i:]
    return out_k, out_v


def _rebuild_level(
    store: NodeStore, root: str, level: int, changes: Mapping[str, Value | None]
) -> dict[str, Value | None]:
    """Apply ``changes`` to the entries of ``level``; return the changes for ``level + 1``."""
    change_keys = sorted(changes)
    up: dict[str, Value | None] = {}
    replaced: dict[str, list] = {}
    # Keys of untouched entries keep their status: only the closing key of a node that is
    # not the last one is a boundary. Changed keys, and the level's last key, are hashed.
    closers: set[str] = set()
    to_hash: set[str] = set()

    def boundary(key: str) -> bool:
        if key in changes or key in to_hash:
            return is_boundary(key, level)
        return key in closers

    i = 0
    while i < len(change_keys):
        node, is_last = _descend(store, root, level, change_keys[i], strict=False)
        (to_hash if is_last else closers).add(node.keys[-1])
        olds = [node.keys[-1]]
        keys, values = node.keys, node.values
        bound = None if is_last else node.keys[-1]
        j = i
        while j < len(change_keys) and (bound is None or change_keys[j] <= bound):
            j += 1
        keys, values = _apply(keys, values, changes, change_keys[i:j])
        while not is_last and (not keys or not is_boundary(keys[-1], level)):
            # The node lost its closing key: it merges with the next one.
            node, is_last = _descend(store, root, level, olds[-1], strict=True)
            (to_hash if is_last else closers).add(node.keys[-1])
            olds.append(node.keys[-1])
            bound = None if is_last else node.keys[-1]
            k = j
            while k < len(change_keys) and (bound is None or change_keys[k] <= bound):
                k += 1
            keys, values = _apply(keys + node.keys, values + node.values, changes, change_keys[j:k])
            j = k
        for old in olds:
            up.setdefault(old, None)
        # Only a changed key or the closing key of a node taken apart can close a new node.
        candidates = [*change_keys[i:j], *olds]
        for key, value in _chunk(store, level, keys, values, boundary, candidates):
            replaced[key] = value
        i = j
    up.update(replaced)
    return up


def _prefetch_paths(store: NodeStore, root: str, keys: list[str]) -> None:
    """Load the nodes on the paths from ``root`` to ``keys``, one batch per level (the nodes
    :func:`_rebuild_level` descends to; a node it reaches beyond them loads on demand)."""
    at = dict.fromkeys(keys, root)
    store.prefetch([root])
    while at:
        below: dict[str, str] = {}
        for key, nid in at.items():
            node = store.get(nid)
            if node.level > 0:
                idx = min(bisect_left(node.keys, key), len(node.keys) - 1)
                below[key] = node.values[idx][0]
        store.prefetch(below.values())
        at = below


def update(store: NodeStore, root: str, changes: Mapping[str, Value | None]) -> str:
    """A new root with ``changes`` applied (value None deletes a key); shares untouched nodes."""
    if not changes:
        return root
    if root == EMPTY:
        return build(store, {k: v for k, v in changes.items() if v is not None})
    _prefetch_paths(store, root, sorted(changes))
    top = store.get(root).level
    for level in range(top):
        changes = _rebuild_level(store, root, level, changes)
    node = store.get(root)
    change_keys = sorted(changes)
    keys, values = _apply(node.keys, node.values, changes, change_keys)
    return _finish(store, top, _chunk(store, top, keys, values) if keys else [])
