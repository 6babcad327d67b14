"""``LocalLake``: the embedded lake backend with lakeFS semantics, no server needed.

Layout under the lake root::

    <repository>/catalog.sqlite3     refs, commits, staging, tree nodes (see metadata.py)
    <repository>/objects/aa/bb/<sha256>   content-addressed object files
"""

from __future__ import annotations

import getpass
import hashlib
import heapq
import json
import mimetypes
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from versioning.lake.base import Lake, MergeCheck, Source, protected_by, run_merge_checks
from versioning.lake.errors import (
    AlreadyExistsError,
    ConflictError,
    CorruptionError,
    DirtyBranchError,
    InvalidInputError,
    NotFoundError,
    NothingToCommitError,
    ObjectGoneError,
    PreconditionFailedError,
    ProtectedBranchError,
)
from versioning.lake.local import tree
from versioning.lake.local.handle import CATALOG_FILE, RepositoryHandle
from versioning.lake.local.maintenance import check_repository, collect_garbage
from versioning.lake.local.objects import SMALL_OBJECT, StagedBlob
from versioning.lake.local.refs import Resolved, load_commit_row, resolve, row_to_commit
from versioning.lake.models import (
    ChangeType,
    Commit,
    CommonPrefix,
    DiffEntry,
    FsckReport,
    GCReport,
    MergeRequest,
    MergeResult,
    ObjectStat,
    Ref,
    Repository,
)
from versioning.lake.validation import (
    validate_branch,
    validate_metadata,
    validate_path,
    validate_protection_pattern,
    validate_repository,
    validate_tag,
)

PROTECTION_TABLE = (
    "CREATE TABLE IF NOT EXISTS branch_protection "
    "(pattern TEXT PRIMARY KEY, created REAL NOT NULL) WITHOUT ROWID"
)
#: upload_many publishes at most this much in-memory content per transaction.
BATCH_BYTES = 64 << 20
BATCH_FILES = 2000


def identity(value: tree.Value | None) -> tuple | None:
    """What makes two entries the same object: content, size, type and user metadata."""
    if value is None:
        return None
    return (value[0], value[1], value[3], json.dumps(value[4], sort_keys=True))


def _same(a: tree.Value, b: tree.Value) -> bool:
    return identity(a) == identity(b)


def _to_stat(path: str, value: tree.Value) -> ObjectStat:
    return ObjectStat(path, value[0], value[1], value[2], value[3], dict(value[4]))


class LocalLake(Lake):
    """Repositories under ``root``, each a SQLite catalog plus content-addressed files."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        fsync: bool = True,
        lock_timeout_s: float = 60.0,
        committer: str | None = None,
        merge_checks: Iterable[MergeCheck] = (),
    ):
        self.root = Path(root)
        self.fsync = fsync
        self.lock_timeout_s = lock_timeout_s
        self.committer = committer or os.environ.get("VOICEOPS_USER") or _current_user()
        self.merge_checks = tuple(merge_checks)
        self._repos: dict[str, RepositoryHandle] = {}

    # ---- repositories -------------------------------------------------------------------
    def _open(self, name: str, root: Path) -> RepositoryHandle:
        return RepositoryHandle.open(
            name, root, fsync=self.fsync, lock_timeout_s=self.lock_timeout_s
        )

    def _repo(self, repository: str) -> RepositoryHandle:
        validate_repository(repository)
        repo = self._repos.get(repository)
        if repo is None:
            root = self.root / repository
            if not (root / CATALOG_FILE).is_file():
                raise NotFoundError(f"repository {repository} not found")
            repo = self._repos[repository] = self._open(repository, root)
            repo.catalog.connection().execute(PROTECTION_TABLE)  # catalogs made before rules
        return repo

    def create_repository(self, repository: str, default_branch: str = "main") -> Repository:
        validate_repository(repository)
        validate_branch(default_branch)
        final = self.root / repository
        if final.exists():
            raise AlreadyExistsError(f"repository {repository} already exists")
        self.root.mkdir(parents=True, exist_ok=True)
        building = self.root / f".new-{repository}-{uuid.uuid4().hex[:8]}"
        building.mkdir()
        try:
            repo = self._open(repository, building)
            repo.catalog.create_schema()
            now = time.time()
            with repo.catalog.write() as conn:
                conn.executemany(
                    "INSERT INTO settings VALUES (?, ?)",
                    [("default_branch", default_branch), ("created", repr(now))],
                )
                commit_id = self._insert_commit(
                    conn, tree.EMPTY, [], "Repository created", {}, "", now
                )
                conn.execute(
                    "INSERT INTO branches VALUES (?, ?, ?)", (default_branch, commit_id, now)
                )
            repo.catalog.close()
            try:
                os.rename(building, final)  # atomic: the repository appears whole or not at all
            except OSError as err:
                raise AlreadyExistsError(f"repository {repository} already exists") from err
        finally:
            if building.exists():
                shutil.rmtree(building, ignore_errors=True)
        return self.get_repository(repository)

    def get_repository(self, repository: str) -> Repository:
        repo = self._repo(repository)
        settings = dict(repo.catalog.connection().execute("SELECT key, value FROM settings"))
        return Repository(
            repository,
            settings["default_branch"],
            float(settings["created"]),
            storage_namespace=repo.root.as_uri(),
        )

    def list_repositories(self) -> list[Repository]:
        if not self.root.exists():
            return []
        names = sorted(
            p.name
            for p in self.root.iterdir()
            if not p.name.startswith(".") and (p / CATALOG_FILE).is_file()
        )
        return [self.get_repository(name) for name in names]

    def delete_repository(self, repository: str) -> None:
        repo = self._repo(repository)
        repo.catalog.close()
        self._repos.pop(repository, None)
        trash = self.root / f".trash-{repository}-{uuid.uuid4().hex[:8]}"
        os.rename(repo.root, trash)
        shutil.rmtree(trash, ignore_errors=True)

    # ---- branches and tags --------------------------------------------------------------
    def create_branch(self, repository: str, branch: str, source_ref: str) -> Ref:
        validate_branch(branch)
        repo = self._repo(repository)
        with repo.catalog.write() as conn:
            source = resolve(conn, repository, source_ref)
            if self._branch_head(conn, branch) is not None:
                raise AlreadyExistsError(f"branch {branch} already exists in {repository}")
            if conn.execute("SELECT 1 FROM tags WHERE name = ?", (branch,)).fetchone():
                raise AlreadyExistsError(f"{branch} is a tag in {repository}")
            conn.execute(
                "INSERT INTO branches VALUES (?, ?, ?)", (branch, source.commit_id, time.time())
            )
        return Ref(branch, source.commit_id)

    def get_branch(self, repository: str, branch: str) -> Ref:
        repo = self._repo(repository)
        head = self._branch_head(repo.catalog.connection(), branch)
        if head is None:
            raise NotFoundError(f"branch {branch} not found in repository {repository}")
        return Ref(branch, head)

    def list_branches(self, repository: str) -> list[Ref]:
        rows = (
            self._repo(repository)
            .catalog.connection()
            .execute("SELECT name, head FROM branches ORDER BY name")
        )
        return [Ref(name, head) for name, head in rows]

    def delete_branch(self, repository: str, branch: str) -> None:
        repo = self._repo(repository)
        with repo.catalog.write() as conn:
            self._require_writable(conn, repository, branch, "delete branch")
            if branch == self._default_branch(conn):
                raise InvalidInputError(
                    f"branch {branch} is the default branch of {repository}: it cannot be deleted"
                )
            conn.execute("DELETE FROM branches WHERE name = ?", (branch,))
            conn.execute("DELETE FROM staging WHERE branch = ?", (branch,))

    def create_tag(self, repository: str, tag: str, ref: str) -> Ref:
        validate_tag(tag)
        repo = self._repo(repository)
        with repo.catalog.write() as conn:
            target = resolve(conn, repository, ref)
            if conn.execute("SELECT 1 FROM tags WHERE name = ?", (tag,)).fetchone():
                raise AlreadyExistsError(f"tag {tag} already exists in {repository} (immutable)")
            if self._branch_head(conn, tag) is not None:
                raise AlreadyExistsError(f"{tag} is a branch in {repository}")
            conn.execute("INSERT INTO tags VALUES (?, ?, ?)", (tag, target.commit_id, time.time()))
        return Ref(tag, target.commit_id)

    def list_tags(self, repository: str) -> list[Ref]:
        rows = (
            self._repo(repository)
            .catalog.connection()
            .execute("SELECT name, commit_id FROM tags ORDER BY name")
        )
        return [Ref(name, cid) for name, cid in rows]

    def delete_tag(self, repository: str, tag: str) -> None:
        repo = self._repo(repository)
        with repo.catalog.write() as conn:
            if conn.execute("DELETE FROM tags WHERE name = ?", (tag,)).rowcount == 0:
                raise NotFoundError(f"tag {tag} not found in repository {repository}")

    def resolve_ref(self, repository: str, ref: str) -> str:
        repo = self._repo(repository)
        with repo.catalog.read() as conn:
            return resolve(conn, repository, ref).commit_id

    # ---- branch protection --------------------------------------------------------------
    def add_branch_protection(self, repository: str, pattern: str) -> None:
        validate_protection_pattern(pattern)
        with self._repo(repository).catalog.write() as conn:
            if conn.execute(
                "SELECT 1 FROM branch_protection WHERE pattern = ?", (pattern,)
            ).fetchone():
                raise AlreadyExistsError(f"branch protection rule {pattern!r} already exists")
            conn.execute("INSERT INTO branch_protection VALUES (?, ?)", (pattern, time.time()))

    def list_branch_protection(self, repository: str) -> list[str]:
        rows = (
            self._repo(repository)
            .catalog.connection()
            .execute("SELECT pattern FROM branch_protection ORDER BY pattern")
        )
        return [pattern for (pattern,) in rows]

    def delete_branch_protection(self, repository: str, pattern: str) -> None:
        with self._repo(repository).catalog.write() as conn:
            deleted = conn.execute("DELETE FROM branch_protection WHERE pattern = ?", (pattern,))
            if deleted.rowcount == 0:
                raise NotFoundError(f"branch protection rule {pattern!r} not found in {repository}")

    @staticmethod
    def _protection_rule(conn: sqlite3.Connection, branch: str) -> str | None:
        patterns = [p for (p,) in conn.execute("SELECT pattern FROM branch_protection")]
        return protected_by(patterns, branch)

    def _require_unprotected(
        self, conn: sqlite3.Connection, repository: str, branch: str, verb: str
    ) -> None:
        rule = self._protection_rule(conn, branch)
        if rule is not None:
            raise ProtectedBranchError(
                f"cannot {verb} {repository}/{branch}: the branch is protected (rule "
                f"{rule!r}); it changes only by merges that pass its pre-merge checks"
            )

    # ---- objects ------------------------------------------------------------------------
    def upload(
        self,
        repository: str,
        branch: str,
        path: str,
        source: Source,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ObjectStat:
        validate_path(path)
        metadata = validate_metadata(metadata)
        repo = self._repo(repository)
        self._require_writable(repo.catalog.connection(), repository, branch, "upload to")
        blob = repo.objects.stage(source, path)
        try:
            with repo.catalog.write() as conn:
                head_tree = self._head_tree(conn, repository, branch)
                return self._stage_blob(
                    repo, conn, branch, head_tree, path, blob, content_type, metadata
                )
        finally:
            repo.objects.discard(blob)

    def upload_many(
        self, repository: str, branch: str, items: Iterable[tuple[str, Source]]
    ) -> list[ObjectStat]:
        """Stage many objects, publishing them in batched transactions."""
        repo = self._repo(repository)
        self._require_writable(repo.catalog.connection(), repository, branch, "upload to")
        stats: list[ObjectStat] = []
        batch: list[tuple[str, StagedBlob]] = []
        in_memory = 0
        try:
            for path, source in items:
                validate_path(path)
                blob = repo.objects.stage(source, path, sync=False)
                batch.append((path, blob))
                in_memory += blob.size if blob.data is not None else 0
                if len(batch) >= BATCH_FILES or in_memory >= BATCH_BYTES - SMALL_OBJECT:
                    stats.extend(self._publish_batch(repo, repository, branch, batch))
                    batch, in_memory = [], 0
            stats.extend(self._publish_batch(repo, repository, branch, batch))
        finally:
            for _, blob in batch:
                repo.objects.discard(blob)
        return stats

    def _publish_batch(
        self,
        repo: RepositoryHandle,
        repository: str,
        branch: str,
        batch: list[tuple[str, StagedBlob]],
    ) -> list[ObjectStat]:
        if not batch:
            return []
        with repo.catalog.write() as conn:
            head_tree = self._head_tree(conn, repository, branch)
            stats = [
                self._stage_blob(repo, conn, branch, head_tree, path, blob, None, {}, sync=False)
                for path, blob in batch
            ]
            repo.objects.sync_all()  # the files are durable before the catalog points at them
            return stats

    def _stage_blob(
        self,
        repo: RepositoryHandle,
        conn: sqlite3.Connection,
        branch: str,
        head_tree: str,
        path: str,
        blob: StagedBlob,
        content_type: str | None,
        metadata: dict[str, str],
        *,
        sync: bool = True,
    ) -> ObjectStat:
        """Publish a blob under the write lock (so gc cannot race it) and stage its entry."""
        now = time.time()
        repo.objects.publish(blob, sync=sync)
        conn.execute(
            "INSERT OR IGNORE INTO objects VALUES (?, ?, ?)", (blob.checksum, blob.size, now)
        )
        conn.execute("DELETE FROM gone WHERE checksum = ?", (blob.checksum,))
        ctype = content_type or mimetypes.guess_type(path)[0] or "application/octet-stream"
        value = [blob.checksum, blob.size, now, ctype, metadata]
        committed = tree.lookup(repo.nodes(), head_tree, path)
        if committed is not None and _same(committed, value):
            conn.execute("DELETE FROM staging WHERE branch = ? AND path = ?", (branch, path))
            return _to_stat(path, committed)
        conn.execute(
            "INSERT OR REPLACE INTO staging VALUES (?, ?, ?, ?, ?, ?, ?)",
            (branch, path, blob.checksum, blob.size, now, ctype, json.dumps(metadata)),
        )
        return _to_stat(path, value)

    def _entry(self, repo: RepositoryHandle, conn: sqlite3.Connection, at: Resolved, path: str):
        """The entry of ``path`` at a resolved ref (staging first on a branch), or None."""
        if at.branch is not None:
            row = conn.execute(
                "SELECT checksum, size, mtime, content_type, metadata FROM staging "
                "WHERE branch = ? AND path = ?",
                (at.branch, path),
            ).fetchone()
            if row is not None:
                return None if row[0] is None else [*row[:4], json.loads(row[4])]
        return tree.lookup(repo.nodes(), at.tree, path)

    def stat(self, repository: str, ref: str, path: str) -> ObjectStat:
        validate_path(path)
        repo = self._repo(repository)
        with repo.catalog.read() as conn:
            value = self._entry(repo, conn, resolve(conn, repository, ref), path)
        if value is None:
            raise NotFoundError(f"object {path} not found at {repository}/{ref}")
        return _to_stat(path, value)

    def open(self, repository: str, ref: str, path: str) -> BinaryIO:
        stat = self.stat(repository, ref, path)
        repo = self._repo(repository)
        try:
            return repo.objects.open(stat.checksum)
        except FileNotFoundError:
            gone = (
                repo.catalog.connection()
                .execute(
                    "SELECT deleted, retention_days FROM gone WHERE checksum = ?", (stat.checksum,)
                )
                .fetchone()
            )
            if gone is not None:
                when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(gone[0]))
                raise ObjectGoneError(
                    f"object {path} at {repository}/{ref} is gone: garbage-collected at "
                    f"{when} UTC (retention {gone[1]:g} days, no branch or tag kept it)"
                ) from None
            raise CorruptionError(
                f"object {path} at {repository}/{ref}: content {stat.checksum[:12]} is "
                "missing from storage (run fsck)"
            ) from None

    def list_objects(
        self, repository: str, ref: str, prefix: str = "", delimiter: str | None = None
    ) -> Iterator[ObjectStat | CommonPrefix]:
        validate_path(prefix, allow_prefix=True)
        repo = self._repo(repository)
        with repo.catalog.read() as conn:
            at = resolve(conn, repository, ref)
            staged = self._staged_rows(conn, at.branch, prefix) if at.branch else {}
        nodes = repo.nodes()
        return self._listing(nodes, at.tree, staged, prefix, delimiter)

    def _listing(
        self,
        nodes: tree.NodeStore,
        root: str,
        staged: dict[str, tree.Value | None],
        prefix: str,
        delimiter: str | None,
    ) -> Iterator[ObjectStat | CommonPrefix]:
        stop = tree.prefix_end(prefix)
        start = prefix
        pending = sorted(staged)
        while True:
            merged = _merge_staged(tree.iterate(nodes, root, start, stop), pending, staged)
            restarted = False
            for key, value in merged:
                if value is None:
                    continue
                if delimiter:
                    cut = key.find(delimiter, len(prefix))
                    if cut >= 0:
                        common = key[: cut + len(delimiter)]
                        yield CommonPrefix(common)
                        start = tree.prefix_end(common) or ""
                        pending = [k for k in pending if k >= start]
                        restarted = True
                        break
                yield _to_stat(key, value)
            if not restarted:
                return

    @staticmethod
    def _staged_rows(
        conn: sqlite3.Connection, branch: str, prefix: str
    ) -> dict[str, tree.Value | None]:
        stop = tree.prefix_end(prefix)
        query = (
            "SELECT path, checksum, size, mtime, content_type, metadata FROM staging "
            "WHERE branch = ? AND path >= ?" + (" AND path < ?" if stop else "")
        )
        args = (branch, prefix, stop) if stop else (branch, prefix)
        return {
            row[0]: None if row[1] is None else [*row[1:5], json.loads(row[5])]
            for row in conn.execute(query, args)
        }

    def delete_object(self, repository: str, branch: str, path: str) -> None:
        validate_path(path)
        repo = self._repo(repository)
        with repo.catalog.write() as conn:
            self._require_writable(conn, repository, branch, "delete from")
            head_tree = self._head_tree(conn, repository, branch)
            at = Resolved("", head_tree, branch)
            if self._entry(repo, conn, at, path) is None:
                raise NotFoundError(f"object {path} not found on {repository}/{branch}")
            if tree.lookup(repo.nodes(), head_tree, path) is None:
                conn.execute("DELETE FROM staging WHERE branch = ? AND path = ?", (branch, path))
            else:
                conn.execute(
                    "INSERT OR REPLACE INTO staging VALUES (?, ?, NULL, 0, ?, '', '{}')",
                    (branch, path, time.time()),
                )

    # ---- changes and commits ------------------------------------------------------------
    def uncommitted(self, repository: str, branch: str, prefix: str = "") -> list[DiffEntry]:
        validate_path(prefix, allow_prefix=True)
        repo = self._repo(repository)
        with repo.catalog.read() as conn:
            head_tree = self._head_tree(conn, repository, branch)
            staged = self._staged_rows(conn, branch, prefix)
        nodes = repo.nodes()
        out = []
        for path in sorted(staged):
            new = staged[path]
            old = tree.lookup(nodes, head_tree, path)
            out.append(_diff_entry(path, old, new))
        return out

    def reset(self, repository: str, branch: str, path: str | None = None) -> None:
        repo = self._repo(repository)
        with repo.catalog.write() as conn:
            self._require_writable(conn, repository, branch, "reset")
            if path is None or path == "":
                conn.execute("DELETE FROM staging WHERE branch = ?", (branch,))
            elif path.endswith("/"):
                validate_path(path, allow_prefix=True)
                conn.execute(
                    "DELETE FROM staging WHERE branch = ? AND path >= ? AND path < ?",
                    (branch, path, tree.prefix_end(path)),
                )
            else:
                validate_path(path)
                conn.execute("DELETE FROM staging WHERE branch = ? AND path = ?", (branch, path))

    def commit(
        self,
        repository: str,
        branch: str,
        message: str,
        metadata: dict[str, str] | None = None,
        *,
        committer: str | None = None,
        allow_empty: bool = False,
    ) -> Commit:
        metadata = validate_metadata(metadata)
        if not isinstance(message, str) or not message.strip():
            raise InvalidInputError("commit message must not be empty")
        repo = self._repo(repository)
        with repo.catalog.write() as conn:
            head = self._require_writable(conn, repository, branch, "commit to")
            head_tree = load_commit_row(conn, head)[1]
            staged = self._staged_rows(conn, branch, "")
            if not staged and not allow_empty:
                raise NothingToCommitError(f"no changes to commit on {repository}/{branch}")
            nodes = repo.nodes()
            new_tree = tree.update(nodes, head_tree, staged)
            self._write_nodes(conn, nodes)
            commit_id = self._insert_commit(
                conn, new_tree, [head], message, metadata, committer or self.committer
            )
            conn.execute("UPDATE branches SET head = ? WHERE name = ?", (commit_id, branch))
            conn.execute("DELETE FROM staging WHERE branch = ?", (branch,))
            return row_to_commit(load_commit_row(conn, commit_id))

    def get_commit(self, repository: str, ref: str) -> Commit:
        repo = self._repo(repository)
        with repo.catalog.read() as conn:
            return row_to_commit(load_commit_row(conn, resolve(conn, repository, ref).commit_id))

    def log(self, repository: str, ref: str, amount: int | None = None) -> list[Commit]:
        if amount is not None and amount < 1:
            raise InvalidInputError(f"amount must be positive, got {amount}")
        repo = self._repo(repository)
        with repo.catalog.read() as conn:
            start = load_commit_row(conn, resolve(conn, repository, ref).commit_id)
            out: list[Commit] = []
            heap = [(-start[7], -start[5], start[0], start)]
            seen = {start[0]}
            while heap and (amount is None or len(out) < amount):
                _, _, _, row = heapq.heappop(heap)
                out.append(row_to_commit(row))
                for parent in json.loads(row[2]):
                    if parent not in seen:
                        seen.add(parent)
                        prow = load_commit_row(conn, parent)
                        heapq.heappush(heap, (-prow[7], -prow[5], prow[0], prow))
        return out

    def diff(
        self, repository: str, left_ref: str, right_ref: str, prefix: str = ""
    ) -> list[DiffEntry]:
        validate_path(prefix, allow_prefix=True)
        repo = self._repo(repository)
        with repo.catalog.read() as conn:
            left = resolve(conn, repository, left_ref)
            right = resolve(conn, repository, right_ref)
        return [
            _diff_entry(path, old, new)
            for path, old, new in tree.diff(repo.nodes(), left.tree, right.tree, prefix, _same)
        ]

    def merge(
        self,
        repository: str,
        source_ref: str,
        destination_branch: str,
        *,
        message: str | None = None,
        metadata: dict[str, str] | None = None,
        strategy: str | None = None,
        allow_fast_forward: bool = True,
        expected_destination_head: str | None = None,
    ) -> MergeResult:
        """Three-way merge; with ``allow_fast_forward=False`` always a merge commit (lakeFS).

        A merge into a protected branch runs the pre-merge checks inside the write lock, so
        the destination cannot move between the checks and the merge.
        """
        metadata = validate_metadata(metadata)
        if strategy not in (None, "source-wins", "dest-wins"):
            raise InvalidInputError(f"unknown merge strategy {strategy!r}")
        repo = self._repo(repository)
        with repo.catalog.write() as conn:
            source = resolve(conn, repository, source_ref).commit_id
            dest = self._require_branch(conn, repository, destination_branch)
            if expected_destination_head not in (None, dest):
                raise PreconditionFailedError(
                    f"merge into {repository}/{destination_branch} refused: it is at "
                    f"{dest[:12]}, not at the expected {str(expected_destination_head)[:12]}"
                )
            self._require_clean(conn, repository, destination_branch, "merge into")
            base = _merge_base(conn, source, dest)
            if base == source:
                return MergeResult(dest, fast_forward=False, changes=0)
            rule = self._protection_rule(conn, destination_branch)
            if rule is not None:
                request = MergeRequest(
                    repository,
                    source_ref,
                    source,
                    destination_branch,
                    dest,
                    base,
                    message or "",
                    dict(metadata),
                )
                run_merge_checks(self.merge_checks, request, rule)
            nodes = repo.nodes()
            source_tree = load_commit_row(conn, source)[1]
            dest_tree = load_commit_row(conn, dest)[1]
            if base == dest and allow_fast_forward:
                changes = sum(1 for _ in tree.diff(nodes, dest_tree, source_tree, "", _same))
                conn.execute(
                    "UPDATE branches SET head = ? WHERE name = ?", (source, destination_branch)
                )
                return MergeResult(source, fast_forward=True, changes=changes)
            base_tree = load_commit_row(conn, base)[1] if base else tree.EMPTY
            apply = _three_way(nodes, base_tree, source_tree, dest_tree, strategy, "merge")
            new_tree = tree.update(nodes, dest_tree, apply)
            self._write_nodes(conn, nodes)
            commit_id = self._insert_commit(
                conn,
                new_tree,
                [dest, source],
                message or f"Merge '{source_ref}' into '{destination_branch}'",
                metadata,
                self.committer,
            )
            conn.execute(
                "UPDATE branches SET head = ? WHERE name = ?", (commit_id, destination_branch)
            )
            return MergeResult(commit_id, fast_forward=False, changes=len(apply))

    def merge_base(self, repository: str, left_ref: str, right_ref: str) -> str | None:
        """The best common ancestor of two refs (None for unrelated histories)."""
        repo = self._repo(repository)
        with repo.catalog.read() as conn:
            left = resolve(conn, repository, left_ref).commit_id
            right = resolve(conn, repository, right_ref).commit_id
            return _merge_base(conn, left, right)

    def revert(self, repository: str, branch: str, ref: str, *, parent_number: int = 1) -> Commit:
        repo = self._repo(repository)
        with repo.catalog.write() as conn:
            head = self._require_writable(conn, repository, branch, "revert on")
            self._require_clean(conn, repository, branch, "revert on")
            target = load_commit_row(conn, resolve(conn, repository, ref).commit_id)
            parents = json.loads(target[2])
            if not parents:
                raise InvalidInputError(f"commit {target[0][:12]} has no parent to revert to")
            if not 1 <= parent_number <= len(parents):
                raise InvalidInputError(
                    f"commit {target[0][:12]} has {len(parents)} parent(s), "
                    f"not a parent number {parent_number}"
                )
            nodes = repo.nodes()
            parent_tree = load_commit_row(conn, parents[parent_number - 1])[1]
            head_tree = load_commit_row(conn, head)[1]
            apply = _three_way(nodes, target[1], parent_tree, head_tree, None, "revert")
            if not apply:
                raise NothingToCommitError(f"reverting {target[0][:12]} changes nothing")
            new_tree = tree.update(nodes, head_tree, apply)
            self._write_nodes(conn, nodes)
            commit_id = self._insert_commit(
                conn,
                new_tree,
                [head],
                f"Revert {target[0]}",
                {"reverted_commit": target[0]},
                self.committer,
            )
            conn.execute("UPDATE branches SET head = ? WHERE name = ?", (commit_id, branch))
            return row_to_commit(load_commit_row(conn, commit_id))

    # ---- maintenance --------------------------------------------------------------------
    def gc(self, repository: str, retention_days: float = 7.0) -> GCReport:
        return collect_garbage(self._repo(repository), retention_days)

    def fsck(self, repository: str, *, verify_content: bool = False) -> FsckReport:
        return check_repository(self._repo(repository), verify_content=verify_content)

    # ---- helpers ------------------------------------------------------------------------
    @staticmethod
    def _branch_head(conn: sqlite3.Connection, branch: str) -> str | None:
        row = conn.execute("SELECT head FROM branches WHERE name = ?", (branch,)).fetchone()
        return None if row is None else row[0]

    def _require_branch(self, conn: sqlite3.Connection, repository: str, branch: str) -> str:
        validate_branch(branch)
        head = self._branch_head(conn, branch)
        if head is None:
            raise NotFoundError(f"branch {branch} not found in repository {repository}")
        return head

    def _require_writable(
        self, conn: sqlite3.Connection, repository: str, branch: str, verb: str
    ) -> str:
        """The head of ``branch``, which must exist and not be protected."""
        head = self._require_branch(conn, repository, branch)
        self._require_unprotected(conn, repository, branch, verb)
        return head

    def _head_tree(self, conn: sqlite3.Connection, repository: str, branch: str) -> str:
        return load_commit_row(conn, self._require_branch(conn, repository, branch))[1]

    @staticmethod
    def _require_clean(conn: sqlite3.Connection, repository: str, branch: str, verb: str) -> None:
        if conn.execute("SELECT 1 FROM staging WHERE branch = ? LIMIT 1", (branch,)).fetchone():
            raise DirtyBranchError(
                f"cannot {verb} {repository}/{branch}: it has uncommitted changes "
                "(commit or reset them first)"
            )

    @staticmethod
    def _default_branch(conn: sqlite3.Connection) -> str:
        return conn.execute("SELECT value FROM settings WHERE key = 'default_branch'").fetchone()[0]

    @staticmethod
    def _write_nodes(conn: sqlite3.Connection, nodes: tree.NodeStore) -> None:
        conn.executemany(
            "INSERT OR IGNORE INTO nodes VALUES (?, ?)", list(nodes.drain_pending().items())
        )

    @staticmethod
    def _insert_commit(
        conn: sqlite3.Connection,
        tree_id: str,
        parents: list[str],
        message: str,
        metadata: dict[str, str],
        committer: str,
        created: float | None = None,
    ) -> str:
        created = time.time() if created is None else created
        generation = 1 + max((load_commit_row(conn, p)[7] for p in parents), default=0)
        body = json.dumps([tree_id, parents, message, committer, created, metadata], sort_keys=True)
        commit_id = hashlib.sha256(body.encode("utf-8")).hexdigest()
        conn.execute(
            "INSERT INTO commits VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                commit_id,
                tree_id,
                json.dumps(parents),
                message,
                committer,
                created,
                json.dumps(metadata, sort_keys=True),
                generation,
            ),
        )
        return commit_id


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _diff_entry(path: str, old: tree.Value | None, new: tree.Value | None) -> DiffEntry:
    if old is None:
        return DiffEntry(path, ChangeType.ADDED, None, new[1] if new else None)
    if new is None:
        return DiffEntry(path, ChangeType.REMOVED, old[1], None)
    return DiffEntry(path, ChangeType.CHANGED, old[1], new[1])


def _merge_staged(
    committed: Iterator[tuple[str, tree.Value]],
    pending: list[str],
    staged: dict[str, tree.Value | None],
) -> Iterator[tuple[str, tree.Value | None]]:
    """Overlay staged entries (sorted keys ``pending``) on committed ones."""
    i = 0
    for key, value in committed:
        while i < len(pending) and pending[i] < key:
            yield pending[i], staged[pending[i]]
            i += 1
        if i < len(pending) and pending[i] == key:
            yield key, staged[key]
            i += 1
        else:
            yield key, value
    while i < len(pending):
        yield pending[i], staged[pending[i]]
        i += 1


def _merge_base(conn: sqlite3.Connection, a: str, b: str) -> str | None:
    """The best common ancestor: the one with the highest generation."""
    flags: dict[str, int] = {a: 1, b: 2} if a != b else {a: 3}
    heap: list[tuple[int, str]] = []
    for cid in flags:
        heapq.heappush(heap, (-load_commit_row(conn, cid)[7], cid))
    while heap:
        _, cid = heapq.heappop(heap)
        if flags[cid] == 3:
            return cid
        for parent in json.loads(load_commit_row(conn, cid)[2]):
            if parent not in flags:
                flags[parent] = flags[cid]
                heapq.heappush(heap, (-load_commit_row(conn, parent)[7], parent))
            else:
                flags[parent] |= flags[cid]
    return None


def _three_way(
    nodes: tree.NodeStore,
    base: str,
    source: str,
    dest: str,
    strategy: str | None,
    verb: str,
) -> dict[str, tree.Value | None]:
    """Changes to apply on ``dest`` to bring in what ``source`` changed since ``base``."""
    theirs = {p: new for p, _old, new in tree.diff(nodes, base, source, "", _same)}
    if not theirs:
        return {}
    ours = {p: new for p, _old, new in tree.diff(nodes, base, dest, "", _same)}
    apply: dict[str, tree.Value | None] = {}
    conflicts = []
    for path, new in theirs.items():
        if path not in ours:
            apply[path] = new
        elif identity(ours[path]) == identity(new):
            continue
        elif strategy == "source-wins":
            apply[path] = new
        elif strategy == "dest-wins":
            continue
        else:
            conflicts.append(path)
    if conflicts:
        shown = ", ".join(conflicts[:10]) + (" ..." if len(conflicts) > 10 else "")
        raise ConflictError(
            f"{verb} conflict: {len(conflicts)} path(s) changed on both sides: {shown}",
            conflicts,
        )
    return apply
