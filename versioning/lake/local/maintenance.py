"""Garbage collection and consistency checks (fsck) of a local lake repository."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time

from versioning.lake.errors import InvalidInputError
from versioning.lake.local import tree
from versioning.lake.local.handle import RepositoryHandle
from versioning.lake.local.objects import sha256_file
from versioning.lake.models import FsckReport, GCReport

DAY = 86400.0
#: Temp files of uploads younger than this are never removed (the upload may be running).
TEMP_FILE_MIN_AGE_S = 3600.0


def _retained_commits(conn: sqlite3.Connection, cutoff: float) -> set[str]:
    """Commits whose data must stay readable.

    Branch heads and tagged commits, commits younger than the cutoff, and commits that
    were a head until less than the retention period ago (a child is younger than the
    cutoff), as lakeFS keeps "everything that was in a branch head during the period".
    """
    keep = {row[0] for row in conn.execute("SELECT head FROM branches")}
    keep |= {row[0] for row in conn.execute("SELECT commit_id FROM tags")}
    for cid, parents, created in conn.execute("SELECT id, parents, created FROM commits"):
        if created >= cutoff:
            keep.add(cid)
            keep.update(json.loads(parents))
    return keep


def _reachable_objects(
    repo: RepositoryHandle, conn: sqlite3.Connection, commits: set[str]
) -> set[str]:
    nodes = repo.nodes()
    seen_nodes: set[str] = set()
    reachable: set[str] = set()
    for cid in commits:
        row = conn.execute("SELECT tree FROM commits WHERE id = ?", (cid,)).fetchone()
        if row is None:
            continue
        for _nid, node in tree.walk_nodes(nodes, row[0], seen_nodes):
            if node.level == 0:
                reachable.update(v[0] for v in node.values)
    reachable |= {
        r[0] for r in conn.execute("SELECT checksum FROM staging WHERE checksum IS NOT NULL")
    }
    return reachable


def collect_garbage(repo: RepositoryHandle, retention_days: float) -> GCReport:
    """Delete objects no branch, tag or recent commit can reach, older than the retention."""
    if retention_days < 0:
        raise InvalidInputError(f"retention days must be >= 0, got {retention_days}")
    now = time.time()
    cutoff = now - retention_days * DAY
    # Phase 1 (under the write lock, so no upload can publish meanwhile): mark.
    with repo.catalog.write() as conn:
        reachable = _reachable_objects(repo, conn, _retained_commits(conn, cutoff))
        victims = [
            (cs, size)
            for cs, size, created in conn.execute("SELECT checksum, size, created FROM objects")
            if cs not in reachable and created < cutoff
        ]
        known = {r[0] for r in conn.execute("SELECT checksum FROM objects")}
        conn.executemany(
            "INSERT OR REPLACE INTO gone VALUES (?, ?, ?, ?, 'pending')",
            [(cs, size, now, retention_days) for cs, size in victims],
        )
        conn.executemany("DELETE FROM objects WHERE checksum = ?", [(cs,) for cs, _ in victims])
        kept = len(known) - len(victims)
    # Phase 2 (under the lock again): unlink what is still marked. An interrupted run
    # leaves 'pending' rows that the next run (or fsck --repair) finishes.
    deleted_bytes = 0
    deleted = 0
    with repo.catalog.write() as conn:
        for cs, size in conn.execute(
            "SELECT checksum, size FROM gone WHERE state = 'pending'"
        ).fetchall():
            repo.objects.delete(cs)
            conn.execute("UPDATE gone SET state = 'deleted' WHERE checksum = ?", (cs,))
            deleted += 1
            deleted_bytes += size
        # Files no catalog row knows (an upload killed before its transaction).
        for cs, path in list(repo.objects.iter_files()):
            if cs not in known and cs not in reachable and path.stat().st_mtime < cutoff:
                if conn.execute("SELECT 1 FROM objects WHERE checksum = ?", (cs,)).fetchone():
                    continue
                deleted_bytes += path.stat().st_size
                path.unlink(missing_ok=True)
                deleted += 1
    removed_temp = 0
    for temp in repo.objects.iter_temp_files():
        if temp.stat().st_mtime < now - max(TEMP_FILE_MIN_AGE_S, retention_days * DAY):
            temp.unlink(missing_ok=True)
            removed_temp += 1
    return GCReport(repo.name, retention_days, deleted, deleted_bytes, kept, removed_temp)


def check_repository(repo: RepositoryHandle, *, verify_content: bool = False) -> FsckReport:
    """Verify refs, commits, tree nodes and object files; report errors and warnings."""
    report = FsckReport(repo.name)
    with repo.catalog.read() as conn:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            report.errors.append(f"catalog: SQLite integrity check failed: {integrity}")
        commits = {
            row[0]: (row[1], json.loads(row[2]))
            for row in conn.execute("SELECT id, tree, parents FROM commits")
        }
        refs = list(conn.execute("SELECT 'branch', name, head FROM branches"))
        refs += list(conn.execute("SELECT 'tag', name, commit_id FROM tags"))
        staged = list(conn.execute("SELECT checksum, size FROM staging WHERE checksum IS NOT NULL"))
        gone = {r[0]: r[1] for r in conn.execute("SELECT checksum, state FROM gone")}
        registered = {r[0]: r[1] for r in conn.execute("SELECT checksum, size FROM objects")}
    default = (
        repo.catalog.connection()
        .execute("SELECT value FROM settings WHERE key = 'default_branch'")
        .fetchone()
    )
    if default is None or not any(k == "branch" and n == default[0] for k, n, _ in refs):
        report.errors.append("default branch is missing")
    for kind, name, cid in refs:
        if cid not in commits:
            report.errors.append(f"{kind} {name} points to missing commit {cid}")
    referenced: dict[str, int] = {}
    _check_commits(repo, commits, report, referenced)
    for cs, size in staged:
        referenced.setdefault(cs, size)
    for cs, size in sorted(referenced.items()):
        report.checked_objects += 1
        file = repo.objects.path_of(cs)
        if not file.is_file():
            if cs in gone:
                continue
            report.errors.append(f"object {cs[:16]} ({size} bytes) is missing from storage")
            continue
        if file.stat().st_size != size:
            report.errors.append(f"object {cs[:16]}: size {file.stat().st_size} != {size}")
        elif verify_content and sha256_file(file) != cs:
            report.errors.append(f"object {cs[:16]}: content does not match its checksum")
        if cs not in registered:
            report.warnings.append(f"object {cs[:16]} is referenced but not registered")
    for cs, _path in repo.objects.iter_files():
        if cs not in registered and cs not in referenced:
            report.warnings.append(f"orphan object file {cs[:16]} (left by an interrupted upload)")
    for temp in repo.objects.iter_temp_files():
        report.warnings.append(f"temp file {temp.name} (an upload in progress or interrupted)")
    pending = [cs for cs, state in gone.items() if state == "pending"]
    if pending:
        report.warnings.append(f"{len(pending)} object(s) marked for gc but not yet deleted")
    return report


def _check_commits(
    repo: RepositoryHandle,
    commits: dict[str, tuple[str, list[str]]],
    report: FsckReport,
    referenced: dict[str, int],
) -> None:
    nodes = repo.nodes()
    seen: set[str] = set()
    for cid, (root, parents) in commits.items():
        report.checked_commits += 1
        for parent in parents:
            if parent not in commits:
                report.errors.append(f"commit {cid[:12]}: parent {parent[:12]} is missing")
        try:
            for nid, node in tree.walk_nodes(nodes, root, seen):
                report.checked_nodes += 1
                _check_node(nid, node, report)
                if node.level == 0:
                    for value in node.values:
                        referenced.setdefault(value[0], value[1])
        except KeyError as err:
            report.errors.append(f"commit {cid[:12]}: {err.args[0]}")


def _check_node(nid: str, node: tree.Node, report: FsckReport) -> None:
    if hashlib.sha256(node.encode()).hexdigest() != nid:
        report.errors.append(f"tree node {nid[:12]}: content does not match its id")
    if node.keys != sorted(node.keys) or len(set(node.keys)) != len(node.keys):
        report.errors.append(f"tree node {nid[:12]}: keys are not strictly sorted")
