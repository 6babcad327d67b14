"""Errors raised by every lake backend: one type per reason, each with a one-line message."""

from __future__ import annotations

from core.errors import VoiceOpsError


class LakeError(VoiceOpsError):
    """Base class of all lake errors; ``str(err)`` is a one-line reason for the user."""


class InvalidInputError(LakeError, ValueError):
    """A path, a name, a ref or an argument is malformed; nothing was changed."""


class NotFoundError(LakeError, KeyError):
    """A repository, branch, tag, commit or object does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "not found"


class AlreadyExistsError(LakeError):
    """A repository, branch or tag with that name exists already (tags are immutable)."""


class NothingToCommitError(LakeError):
    """A commit was asked for on a branch without uncommitted changes."""


class DirtyBranchError(LakeError):
    """The operation needs a branch without uncommitted changes."""


class ConflictError(LakeError):
    """A merge or revert found paths changed differently on both sides; nothing was changed."""

    def __init__(self, message: str, paths: list[str]):
        super().__init__(message)
        self.paths = paths


class ObjectGoneError(LakeError):
    """The object was deleted by garbage collection after its retention period."""


class LockTimeoutError(LakeError):
    """Another process held the repository's write lock for longer than the timeout."""


class CorruptionError(LakeError):
    """Stored data does not match its content address (found by reads or fsck)."""


class UnsupportedError(LakeError):
    """The backend does not offer this operation (the message says where to do it instead)."""


class ProtectedBranchError(LakeError):
    """A direct change (upload, delete, commit, reset, revert) on a protected branch."""


class MergeVetoedError(LakeError):
    """A pre-merge check refused a merge into a protected branch; nothing was changed."""


class PreconditionFailedError(LakeError):
    """The destination branch moved away from the head the caller expected; nothing changed."""
