"""Validation of repository, branch and tag names and of object paths (lakeFS rules)."""

from __future__ import annotations

import re

from versioning.lake.errors import InvalidInputError

# The same rules as lakeFS's graveler, so a name that works locally works on a server.
REPOSITORY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{2,62}$")
BRANCH_RE = re.compile(r"^\w[-\w]*$")
TAG_RE = re.compile(r"^\w[-\w.]*$")
COMMIT_ID_RE = re.compile(r"^[0-9a-f]{6,64}$")
MAX_PATH_BYTES = 1024
MAX_SEGMENT_BYTES = 255


def validate_repository(name: str) -> str:
    if not isinstance(name, str) or not REPOSITORY_RE.match(name):
        raise InvalidInputError(
            f"invalid repository name {name!r}: 3-63 characters of a-z, 0-9 and '-', "
            "starting with a letter or digit"
        )
    return name


def validate_branch(name: str) -> str:
    if not isinstance(name, str) or not BRANCH_RE.match(name) or len(name) > 256:
        raise InvalidInputError(
            f"invalid branch name {name!r}: letters, digits, '_' and '-' only, "
            "not starting with '-' (lakeFS rule; use 'ingest-<run>' rather than 'ingest/<run>')"
        )
    return name


PROTECTION_RE = re.compile(r"^[\w*?][-\w*?]*$")


def validate_protection_pattern(pattern: str) -> str:
    """A branch protection pattern: branch characters plus the ``*`` and ``?`` wildcards."""
    if not isinstance(pattern, str) or not PROTECTION_RE.match(pattern) or len(pattern) > 256:
        raise InvalidInputError(
            f"invalid branch protection pattern {pattern!r}: branch name characters with "
            "'*' and '?' wildcards (e.g. main, release-*)"
        )
    return pattern


def validate_tag(name: str) -> str:
    if not isinstance(name, str) or not TAG_RE.match(name) or len(name) > 256:
        raise InvalidInputError(
            f"invalid tag name {name!r}: letters, digits, '_', '-' and '.', "
            "not starting with '-' or '.'"
        )
    return name


def validate_path(path: str, *, allow_prefix: bool = False) -> str:
    """Check an object path; with ``allow_prefix`` an empty path or a trailing '/' is allowed."""
    if not isinstance(path, str):
        raise InvalidInputError(f"invalid object path {path!r}: must be a string")
    if allow_prefix and path == "":
        return path
    if path == "":
        raise InvalidInputError("invalid object path '': empty")
    if "\x00" in path:
        raise InvalidInputError(f"invalid object path {path!r}: contains a NUL character")
    if path.startswith("/"):
        raise InvalidInputError(f"invalid object path {path!r}: must not start with '/'")
    if len(path.encode("utf-8")) > MAX_PATH_BYTES:
        raise InvalidInputError(
            f"invalid object path {path[:40]!r}...: longer than {MAX_PATH_BYTES} bytes"
        )
    body = path[:-1] if allow_prefix and path.endswith("/") else path
    for segment in body.split("/"):
        if segment == "":
            raise InvalidInputError(f"invalid object path {path!r}: empty segment ('//' or '/')")
        if segment in {".", ".."}:
            raise InvalidInputError(f"invalid object path {path!r}: '{segment}' segment")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidInputError(
                f"invalid object path {path[:40]!r}...: a segment is longer than "
                f"{MAX_SEGMENT_BYTES} bytes"
            )
    return path


def validate_metadata(metadata: dict[str, str] | None) -> dict[str, str]:
    """Commit and object metadata are string keys and string values."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise InvalidInputError(f"invalid metadata {metadata!r}: must be a mapping")
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            raise InvalidInputError(f"invalid metadata key {key!r}: must be a non-empty string")
        if not isinstance(value, str):
            raise InvalidInputError(
                f"invalid metadata value for {key!r}: {type(value).__name__}, must be a string"
            )
    return dict(metadata)
