"""Search the lake for a data subject: every branch and tag, and every commit of their history.

The commits are gathered by walking ``log`` from every branch and tag; each commit's objects
are listed, and each distinct object (by checksum) is read once, however many commits hold
it, then its hits are reported with the refs and the number of commits that hold it:

* Parquet parts: rows whose string columns hold an identifier;
* JSONL (quarantine rejects and reasons): lines that hold one;
* recordings ``raw/recordings/dt=*/<call id>.wav`` (and quarantined WAVs): the call id is one
  of the subject's calls, found in the call exports (the sources' and the lake's own parts),
  and the bytes are plain or open under a live key.

Sealed personal data (``core.sealing``) is opened first: parts with ``open_table``, JSONL
lines with ``open_entry``, WAVs with ``open_blob``. What is sealed under a destroyed key is
noise (the subject was erased), never a hit.

Cost: one listing per commit plus one read per distinct object, so a lake with C commits
and O objects per commit lists C x O entries and reads at most the distinct objects.
"""

from __future__ import annotations

import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow.compute as pc
import pyarrow.parquet as pq

from core.sealing import Sealer, is_sealed_blob
from core.sealing.codec import blob_key_id
from core.settings import Settings
from governance.subject import Subject
from versioning.lake import Lake, open_lake
from versioning.lake.models import ObjectStat

LAYER = "lake"
_WAV = re.compile(r"(?:^|/)([^/]+)\.wav$", re.IGNORECASE)


@dataclass
class LakeHit:
    """One object holding the subject: its path, hits per kind, and who holds it."""

    path: str
    checksum: str
    hits: dict[str, int]
    refs: set[str] = field(default_factory=set)
    commits: set[str] = field(default_factory=set)


@dataclass
class LakeScan:
    """What the walk covered."""

    refs: int = 0
    commits: int = 0
    objects_listed: int = 0
    objects_read: int = 0


def commits_by_ref(lake: Lake, repository: str) -> dict[str, set[str]]:
    """Every commit reachable from a branch or tag, with the refs that reach it."""
    holders: dict[str, set[str]] = defaultdict(set)
    named = [(b.id, b) for b in lake.list_branches(repository)]
    named += [(f"tag:{t.id}", t) for t in lake.list_tags(repository)]
    for name, ref in named:
        for commit in lake.log(repository, ref.commit_id):
            holders[commit.id].add(name)
    return holders


def objects_in_commits(
    lake: Lake, repository: str, commits: Iterable[str]
) -> dict[tuple[str, str], set[str]]:
    """Each distinct object (checksum, path) of ``commits`` -> the commits that hold it."""
    objects: dict[tuple[str, str], set[str]] = defaultdict(set)
    for commit_id in commits:
        for item in lake.list_objects(repository, commit_id):
            if isinstance(item, ObjectStat):
                objects[(item.checksum, item.path)].add(commit_id)
    return objects


def search_lake(settings: Settings, subject: Subject) -> tuple[list[LakeHit], LakeScan]:
    """Hits of ``subject`` in every object any ref's history holds."""
    lake, repository = open_lake(settings), settings.lake_repository
    scan = LakeScan()
    if repository not in {repo.id for repo in lake.list_repositories()}:
        return [], scan
    sealer = Sealer.from_settings(settings)
    key_id = sealer.store.key_id_of(subject.customer_id)  # None once erased
    holders = commits_by_ref(lake, repository)
    scan.refs = len(set().union(*holders.values())) if holders else 0
    scan.commits = len(holders)
    objects = objects_in_commits(lake, repository, holders)
    scan.objects_listed = sum(len(commits) for commits in objects.values())
    hits_by_checksum: dict[str, dict[str, int]] = {}
    wavs: set[tuple[str, str]] = set()
    for checksum, path in sorted(objects, key=lambda key: key[1]):
        if _WAV.search(path):
            wavs.add((checksum, path))
            continue
        if checksum not in hits_by_checksum:
            commit_id = next(iter(objects[(checksum, path)]))
            data = lake.read_bytes(repository, commit_id, path)
            scan.objects_read += 1
            hits_by_checksum[checksum] = _object_hits(path, data, subject, sealer)
    for checksum, path in sorted(wavs, key=lambda key: key[1]):
        match = _WAV.search(path)
        if checksum in hits_by_checksum or not (match and match.group(1) in subject.call_ids):
            continue
        commit_id = next(iter(objects[(checksum, path)]))
        data = lake.read_bytes(repository, commit_id, path)
        scan.objects_read += 1
        hits_by_checksum[checksum] = {"call_recording": 1} if _subject_s_recording(
            data, match.group(1), subject, sealer, key_id) else {}  # fmt: skip
    found: list[LakeHit] = []
    for (checksum, path), commits in sorted(objects.items(), key=lambda item: item[0][1]):
        if (checksum, path) in wavs:
            hits = hits_by_checksum.get(checksum, {})
        else:
            hits = hits_by_checksum[checksum]
        if hits:
            refs = set().union(*(holders[c] for c in commits))
            found.append(LakeHit(path, checksum, hits, refs, set(commits)))
    return found, scan


def _subject_s_recording(
    data: bytes, call_id: str, subject: Subject, sealer: Sealer, key_id: str | None
) -> bool:
    """A sealed WAV is the subject's when sealed under their live key: landing attributed
    it to them (under a destroyed key it is noise; under another customer's key it is
    theirs, even when a bad record of the subject claims the same call id). A plain one
    when its call is one of the subject's."""
    if is_sealed_blob(data):
        return key_id is not None and blob_key_id(data) == key_id
    return call_id in subject.call_ids


def _object_hits(path: str, data: bytes, subject: Subject, sealer: Sealer) -> dict[str, int]:
    """Hits in one object, opened; a Parquet part also adds the subject's call ids it names."""
    if path.endswith(".parquet"):
        table = sealer.open_table(pq.read_table(io.BytesIO(data))).table
        hits, rows = subject.table_hits(table)
        if rows is not None and "call_id" in table.column_names:
            if "customer_id" in table.column_names:
                others = pc.and_(pc.invert(rows), pc.is_valid(table.column("customer_id")))
                claimed = table.filter(others).column("call_id")
                subject.other_calls.update(v for v in pc.unique(claimed).to_pylist() if v)
            own = table.filter(rows)
            subject.call_ids.update(v for v in pc.unique(own.column("call_id")).to_pylist() if v)
            if "transcript" in own.column_names:
                subject.add_cards([t for t in own.column("transcript").to_pylist() if t])
        return dict(hits)
    if path.endswith((".jsonl", ".json", ".csv", ".log", ".txt")):
        lines = _opened_lines(data.decode("utf-8", errors="replace").splitlines(), sealer)
        subject.add_calls_from_lines(lines)
        return dict(subject.text_hits(lines))
    return {}


def _opened_lines(lines: list[str], sealer: Sealer) -> list[str]:
    """JSON object lines with their sealed values opened (lines under a destroyed key left
    out); other lines as they are."""
    opened = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            opened.append(line)
            continue
        if not isinstance(entry, dict):
            opened.append(line)
            continue
        plain = sealer.open_entry(entry)
        if plain is not None:
            opened.append(json.dumps(plain, ensure_ascii=False, default=str))
    return opened
