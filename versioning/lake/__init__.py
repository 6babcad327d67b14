"""The versioned data lake: one interface (``Lake``), a local backend and a lakeFS backend."""

from versioning.lake.base import Lake, Source, Transaction
from versioning.lake.errors import (
    AlreadyExistsError,
    ConflictError,
    CorruptionError,
    DirtyBranchError,
    InvalidInputError,
    LakeError,
    LockTimeoutError,
    NotFoundError,
    NothingToCommitError,
    ObjectGoneError,
    UnsupportedError,
)
from versioning.lake.factory import open_lake
from versioning.lake.models import (
    ChangeType,
    Commit,
    CommonPrefix,
    DiffEntry,
    FsckReport,
    GCReport,
    MergeResult,
    ObjectStat,
    Ref,
    Repository,
)
from versioning.lake.uri import LakeURI, parse_uri

__all__ = [
    "AlreadyExistsError",
    "ChangeType",
    "Commit",
    "CommonPrefix",
    "ConflictError",
    "CorruptionError",
    "DiffEntry",
    "DirtyBranchError",
    "FsckReport",
    "GCReport",
    "InvalidInputError",
    "Lake",
    "LakeError",
    "LakeURI",
    "LockTimeoutError",
    "MergeResult",
    "NotFoundError",
    "NothingToCommitError",
    "ObjectGoneError",
    "ObjectStat",
    "Ref",
    "Repository",
    "Source",
    "Transaction",
    "UnsupportedError",
    "open_lake",
    "parse_uri",
]
