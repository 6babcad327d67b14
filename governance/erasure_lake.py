"""What the lake holds of a data subject, split by what an erasure can do about it.

Every object of every commit reachable from a branch or tag is listed (as the search does);
each distinct object is read once, without opening anything sealed:

* **sealed** under the subject's key (``vos1:<key id>:`` tokens in a Parquet part or a
  quarantine file, a ``VOSEAL1`` recording naming the key): destroying the key erases it,
  the bytes stay as they are;
* **plain**: the subject's identifiers in clear text (data landed before sealing existed,
  a WAV landed with no known owner): no key erases it, only rewriting the lake or the
  retention GC of the refs that hold it.

The subject's calls are the ``call_id`` of rows whose ``customer_id`` is sealed under the
key or is the id in clear. Only a recording's header is read: a sealed one names its key
there, a plain one is the subject's when its call id is one of their calls.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from core.sealing.codec import BLOB_MAGIC, KEY_ID_CHARS, TOKEN_PREFIX, blob_key_id
from core.settings import Settings
from governance.subject import Subject
from governance.subject_lake import commits_by_ref, objects_in_commits
from versioning.lake import open_lake

_WAV = re.compile(r"(?:^|/)([^/]+)\.wav$", re.IGNORECASE)
_TEXT = (".jsonl", ".json", ".csv", ".log", ".txt")


@dataclass
class LakeObject:
    """One lake object (a path at one checksum), the refs and commits that hold it, and
    what it holds of the subject (sealed values, or plain hits per kind)."""

    path: str
    refs: set[str] = field(default_factory=set)
    commits: set[str] = field(default_factory=set)
    sealed: int = 0
    plain: dict[str, int] = field(default_factory=dict)


@dataclass
class LakeState:
    """The subject in the lake: objects sealed under the key, objects holding them plain."""

    key_id: str | None
    sealed: list[LakeObject] = field(default_factory=list)
    plain: list[LakeObject] = field(default_factory=list)
    commits: int = 0
    objects_read: int = 0


def scan(settings: Settings, subject: Subject, key_id: str | None) -> LakeState:
    """Where the lake holds ``subject``: under ``key_id`` (sealed) or in clear text."""
    lake, repository = open_lake(settings), settings.lake_repository
    state = LakeState(key_id)
    if repository not in {repo.id for repo in lake.list_repositories()}:
        return state
    holders = commits_by_ref(lake, repository)
    state.commits = len(holders)
    objects = objects_in_commits(lake, repository, holders)
    found: dict[str, tuple[int, dict[str, int]]] = {}
    wavs = []
    for checksum, path in sorted(objects, key=lambda key: key[1]):
        if _WAV.search(path):
            wavs.append((checksum, path))
        elif checksum not in found and path.endswith((".parquet", *_TEXT)):
            commit_id = next(iter(objects[(checksum, path)]))
            data = lake.read_bytes(repository, commit_id, path)
            state.objects_read += 1
            found[checksum] = _object(path, data, subject, key_id)
    headers: dict[str, bytes] = {}
    for checksum, path in wavs:  # every header: a sealed WAV names its key there
        if checksum not in headers:
            commit_id = next(iter(objects[(checksum, path)]))
            with lake.open(repository, commit_id, path) as handle:
                headers[checksum] = handle.read(len(BLOB_MAGIC) + KEY_ID_CHARS)
            state.objects_read += 1
    recordings = {  # once every part has named the subject's calls
        (checksum, path): _recording(headers[checksum], path, subject, key_id)
        for checksum, path in wavs
    }
    for (checksum, path), commits in sorted(objects.items(), key=lambda item: item[0][1]):
        sealed, plain = recordings.get((checksum, path)) or found.get(checksum, (0, {}))
        if not sealed and not plain:
            continue
        refs = set().union(*(holders[c] for c in commits))
        item = LakeObject(path, refs, set(commits), sealed, plain)
        if sealed:
            state.sealed.append(item)
        if plain:
            state.plain.append(item)
    return state


def _recording(
    head: bytes, path: str, subject: Subject, key_id: str | None
) -> tuple[int, dict[str, int]]:
    """A WAV sealed under the key, or plain and of one of the subject's calls."""
    if head.startswith(BLOB_MAGIC):
        return (1, {}) if key_id and blob_key_id(head) == key_id else (0, {})
    match = _WAV.search(path)
    return (0, {"call_recording": 1}) if match and match.group(1) in subject.call_ids else (0, {})


def _object(
    path: str, data: bytes, subject: Subject, key_id: str | None
) -> tuple[int, dict[str, int]]:
    """(values sealed under ``key_id``, plain hits per kind) of one object; the subject's
    call ids it names are added to ``subject``."""
    prefix = f"{TOKEN_PREFIX}{key_id}:" if key_id else None
    if path.endswith(".parquet"):
        table = pq.read_table(io.BytesIO(data))
        sealed = _sealed_in_table(table, prefix, subject)
        hits, rows = subject.table_hits(table)
        if rows is not None and "call_id" in table.column_names:
            calls = table.filter(rows).column("call_id")
            subject.call_ids.update(v for v in pc.unique(calls).to_pylist() if v)
        return sealed, dict(hits)
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines()
    sealed = 0
    if prefix:
        sealed = sum(line.count(prefix) for line in lines if prefix in line)
    subject.add_calls_from_lines(lines)
    return sealed, dict(subject.text_hits(lines))


def _sealed_in_table(table: pa.Table, prefix: str | None, subject: Subject) -> int:
    """Values sealed under the key; the ``call_id`` of rows whose customer is sealed under
    it are added to ``subject``."""
    if prefix is None:
        return 0
    sealed = 0
    for name in table.column_names:
        column = table.column(name)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        mask = pc.starts_with(pc.fill_null(column, ""), prefix)
        count = int(pc.sum(mask).as_py() or 0)
        sealed += count
        if count and name == "customer_id" and "call_id" in table.column_names:
            calls = table.filter(mask).column("call_id")
            subject.call_ids.update(v for v in pc.unique(calls).to_pylist() if v)
    return sealed
