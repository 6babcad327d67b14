"""Plain value types shared by the lake backends, the CLI and the orchestration layer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Repository:
    id: str
    default_branch: str
    creation_date: float
    storage_namespace: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"creation_date": _iso(self.creation_date)}


@dataclass(frozen=True)
class Ref:
    """A named pointer: a branch (moves with commits) or a tag (never moves)."""

    id: str
    commit_id: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Commit:
    id: str
    parents: tuple[str, ...]
    message: str
    committer: str
    creation_date: float
    metadata: dict[str, str] = field(default_factory=dict)
    meta_range_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {
            "parents": list(self.parents),
            "creation_date": _iso(self.creation_date),
        }


@dataclass(frozen=True)
class ObjectStat:
    path: str
    checksum: str
    size_bytes: int
    mtime: float
    content_type: str = "application/octet-stream"
    metadata: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"mtime": _iso(self.mtime)}


@dataclass(frozen=True)
class CommonPrefix:
    """A "directory" in a listing with a delimiter."""

    path: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "path_type": "common_prefix"}


class ChangeType(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    PREFIX_CHANGED = "prefix_changed"


@dataclass(frozen=True)
class DiffEntry:
    path: str
    type: ChangeType
    left_size: int | None = None
    right_size: int | None = None

    @property
    def size_bytes(self) -> int | None:
        return self.right_size if self.type != ChangeType.REMOVED else self.left_size

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "type": str(self.type),
            "left_size": self.left_size,
            "right_size": self.right_size,
        }


@dataclass(frozen=True)
class MergeRequest:
    """What a pre-merge check sees of a merge into a protected branch (as a lakeFS hook).

    ``merge_base`` equal to ``destination_head`` means the merge result is exactly the
    source commit's content (the destination gained nothing the source lacks).
    """

    repository: str
    source_ref: str
    source_commit: str
    destination_branch: str
    destination_head: str
    merge_base: str | None
    message: str
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def result_is_source(self) -> bool:
        return self.merge_base == self.destination_head


@dataclass(frozen=True)
class MergeResult:
    commit_id: str
    fast_forward: bool
    changes: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GCReport:
    repository: str
    retention_days: float
    deleted_objects: int
    deleted_bytes: int
    kept_objects: int
    removed_temp_files: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FsckReport:
    repository: str
    checked_commits: int = 0
    checked_nodes: int = 0
    checked_objects: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"ok": self.ok}
