"""The lake interface: lakeFS semantics that both backends (local, lakeFS server) implement.

Refs are branch names, tag names or commit ids (full or an unambiguous prefix of at least
6 characters), optionally followed by ``~N`` (N-th first-parent ancestor) or ``^N``
(N-th parent), as in lakeFS. Reading a branch sees its uncommitted changes; reading a
commit or a tag sees only committed data.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from versioning.lake.errors import InvalidInputError, LakeError
from versioning.lake.models import (
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

#: What an upload accepts: a file path, an open binary stream, or bytes.
Source = str | os.PathLike[str] | BinaryIO | bytes

CHUNK_SIZE = 1 << 20

#: A pre-merge check (a lakeFS pre-merge hook run in-process): raises ``MergeVetoedError``
#: to refuse a merge into a protected branch.
MergeCheck = Callable[[MergeRequest], None]


class Lake(ABC):
    """A versioned object store with repositories, branches, commits, merges and tags.

    Branches matching a protection rule take no direct change (upload, delete, commit,
    reset): they move only by merges, and every merge into one must pass ``merge_checks``
    (a merge into a protected branch with no check configured is refused).
    """

    merge_checks: tuple[MergeCheck, ...] = ()

    # ---- repositories -------------------------------------------------------------------
    @abstractmethod
    def create_repository(self, repository: str, default_branch: str = "main") -> Repository:
        """Create a repository with an initial empty commit on its default branch."""

    @abstractmethod
    def get_repository(self, repository: str) -> Repository: ...

    @abstractmethod
    def list_repositories(self) -> list[Repository]: ...

    @abstractmethod
    def delete_repository(self, repository: str) -> None: ...

    # ---- branches and tags --------------------------------------------------------------
    @abstractmethod
    def create_branch(self, repository: str, branch: str, source_ref: str) -> Ref: ...

    @abstractmethod
    def get_branch(self, repository: str, branch: str) -> Ref: ...

    @abstractmethod
    def list_branches(self, repository: str) -> list[Ref]: ...

    @abstractmethod
    def delete_branch(self, repository: str, branch: str) -> None: ...

    @abstractmethod
    def create_tag(self, repository: str, tag: str, ref: str) -> Ref:
        """Create an immutable tag; an existing tag name is an error."""

    @abstractmethod
    def list_tags(self, repository: str) -> list[Ref]: ...

    @abstractmethod
    def delete_tag(self, repository: str, tag: str) -> None: ...

    @abstractmethod
    def resolve_ref(self, repository: str, ref: str) -> str:
        """The commit id a ref points to."""

    # ---- branch protection (lakectl branch-protect) --------------------------------------
    @abstractmethod
    def add_branch_protection(self, repository: str, pattern: str) -> None:
        """Protect every branch matching ``pattern`` (``*`` and ``?`` wildcards, as lakeFS)."""

    @abstractmethod
    def list_branch_protection(self, repository: str) -> list[str]:
        """The protection rules' patterns, sorted."""

    @abstractmethod
    def delete_branch_protection(self, repository: str, pattern: str) -> None: ...

    def is_protected(self, repository: str, branch: str) -> bool:
        """Whether a protection rule matches ``branch``."""
        return protected_by(self.list_branch_protection(repository), branch) is not None

    # ---- ancestry -----------------------------------------------------------------------
    @abstractmethod
    def merge_base(self, repository: str, left_ref: str, right_ref: str) -> str | None:
        """The best common ancestor of two refs (None for unrelated histories)."""

    def is_ancestor(self, repository: str, ancestor: str, descendant: str) -> bool:
        """Whether ``ancestor`` is ``descendant`` or one of its ancestors."""
        commit = self.resolve_ref(repository, ancestor)
        return self.merge_base(repository, commit, descendant) == commit

    # ---- objects ------------------------------------------------------------------------
    @abstractmethod
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
        """Stage an object on a branch, streaming ``source`` in constant memory."""

    def upload_many(
        self,
        repository: str,
        branch: str,
        items: Iterable[tuple[str, Source]],
    ) -> list[ObjectStat]:
        """Stage many objects; backends override this to batch their bookkeeping."""
        return [self.upload(repository, branch, path, source) for path, source in items]

    @abstractmethod
    def open(self, repository: str, ref: str, path: str) -> BinaryIO:
        """A binary stream of the object's bytes at ``ref`` (close it when done)."""

    @abstractmethod
    def stat(self, repository: str, ref: str, path: str) -> ObjectStat: ...

    def exists(self, repository: str, ref: str, path: str) -> bool:
        from versioning.lake.errors import NotFoundError

        try:
            self.stat(repository, ref, path)
        except NotFoundError:
            return False
        return True

    def read_bytes(self, repository: str, ref: str, path: str) -> bytes:
        with self.open(repository, ref, path) as stream:
            return stream.read()

    def download(self, repository: str, ref: str, path: str, destination: str | Path) -> Path:
        """Stream an object into a local file (written atomically)."""
        destination = Path(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(f".{destination.name}.{uuid.uuid4().hex}.part")
        try:
            with self.open(repository, ref, path) as src, open(partial, "wb") as dst:
                while chunk := src.read(CHUNK_SIZE):
                    dst.write(chunk)
            os.replace(partial, destination)
        finally:
            partial.unlink(missing_ok=True)
        return destination

    @abstractmethod
    def list_objects(
        self, repository: str, ref: str, prefix: str = "", delimiter: str | None = None
    ) -> Iterator[ObjectStat | CommonPrefix]:
        """Objects under ``prefix`` in path order; with ``delimiter`` '/' a directory listing."""

    @abstractmethod
    def delete_object(self, repository: str, branch: str, path: str) -> None: ...

    # ---- changes and commits ------------------------------------------------------------
    @abstractmethod
    def uncommitted(self, repository: str, branch: str, prefix: str = "") -> list[DiffEntry]: ...

    @abstractmethod
    def reset(self, repository: str, branch: str, path: str | None = None) -> None:
        """Drop uncommitted changes: all of them, or those of one object or prefix ('dir/')."""

    @abstractmethod
    def commit(
        self,
        repository: str,
        branch: str,
        message: str,
        metadata: dict[str, str] | None = None,
        *,
        committer: str | None = None,
        allow_empty: bool = False,
    ) -> Commit: ...

    @abstractmethod
    def get_commit(self, repository: str, ref: str) -> Commit: ...

    @abstractmethod
    def log(self, repository: str, ref: str, amount: int | None = None) -> list[Commit]:
        """Commits reachable from ``ref``, newest first."""

    @abstractmethod
    def diff(
        self, repository: str, left_ref: str, right_ref: str, prefix: str = ""
    ) -> list[DiffEntry]:
        """What changed from ``left_ref`` to ``right_ref`` (committed data of both)."""

    @abstractmethod
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
        """Three-way merge; ``strategy`` 'source-wins' or 'dest-wins' resolves conflicts.

        ``allow_fast_forward=False`` always writes a merge commit (so its metadata records
        the merge); lakeFS never fast-forwards, so its backend ignores the flag.
        ``expected_destination_head``: refuse (``PreconditionFailedError``) unless the
        destination is still at that commit.
        """

    @abstractmethod
    def revert(self, repository: str, branch: str, ref: str, *, parent_number: int = 1) -> Commit:
        """Commit on ``branch`` the inverse of the changes ``ref`` made to its parent."""

    # ---- maintenance --------------------------------------------------------------------
    @abstractmethod
    def gc(self, repository: str, retention_days: float = 7.0) -> GCReport: ...

    @abstractmethod
    def fsck(self, repository: str, *, verify_content: bool = False) -> FsckReport: ...

    # ---- transactions -------------------------------------------------------------------
    @contextlib.contextmanager
    def transact(
        self,
        repository: str,
        branch: str,
        message: str = "",
        metadata: dict[str, str] | None = None,
        *,
        delete_branch_on_error: bool = True,
    ) -> Iterator[Transaction]:
        """Ephemeral branch -> writes -> commit -> merge -> delete (lakeFS ``branch.transact``).

        On an exception nothing reaches ``branch`` and the ephemeral branch is deleted.
        """
        name = f"tx-{branch}-{uuid.uuid4().hex[:12]}"[:256]
        self.create_branch(repository, name, branch)
        tx = Transaction(self, repository, name)
        try:
            yield tx
            if self.uncommitted(repository, name):
                self.commit(repository, name, message or f"Transaction on {branch}", metadata)
                self.merge(repository, name, branch, message=message or None)
        except BaseException:
            if delete_branch_on_error:
                with contextlib.suppress(LakeError):
                    self.delete_branch(repository, name)
            raise
        self.delete_branch(repository, name)


class Transaction:
    """The branch handle a ``transact()`` block writes through."""

    def __init__(self, lake: Lake, repository: str, branch: str):
        self.lake = lake
        self.repository = repository
        self.branch = branch

    def upload(self, path: str, source: Source, **kwargs: object) -> ObjectStat:
        return self.lake.upload(self.repository, self.branch, path, source, **kwargs)  # type: ignore[arg-type]

    def delete(self, path: str) -> None:
        self.lake.delete_object(self.repository, self.branch, path)

    def open(self, path: str) -> BinaryIO:
        return self.lake.open(self.repository, self.branch, path)

    def read_bytes(self, path: str) -> bytes:
        return self.lake.read_bytes(self.repository, self.branch, path)

    def list_objects(self, prefix: str = "") -> Iterator[ObjectStat | CommonPrefix]:
        return self.lake.list_objects(self.repository, self.branch, prefix)


def protected_by(patterns: Iterable[str], branch: str) -> str | None:
    """The first protection pattern matching ``branch`` (lakeFS matches with glob rules)."""
    return next((p for p in patterns if fnmatch.fnmatchcase(branch, p)), None)


def run_merge_checks(checks: Iterable[MergeCheck], request: MergeRequest, rule: str) -> None:
    """Every check on a merge into a protected branch; none configured refuses the merge."""
    from versioning.lake.errors import MergeVetoedError

    checks = list(checks)
    if not checks:
        raise MergeVetoedError(
            f"branch {request.destination_branch} of {request.repository} is protected "
            f"(rule {rule!r}) and this client has no pre-merge check to let a merge in"
        )
    for check in checks:
        check(request)


def iter_source_files(root: Path) -> Iterator[tuple[str, Path]]:
    """Relative POSIX path and file of every regular file under ``root``, sorted."""
    if not root.exists():
        raise InvalidInputError(f"upload source {root}: no such file or directory")
    if root.is_file():
        yield root.name, root
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            file = Path(dirpath) / name
            yield file.relative_to(root).as_posix(), file
