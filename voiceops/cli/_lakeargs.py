"""Argument helpers of the lake commands: the configured lake, ``lakefs://`` URIs, ``--meta``."""

from __future__ import annotations

from core.settings import Settings
from versioning.lake import Lake, LakeURI, parse_uri
from voiceops.cli._output import CliError


def current_settings() -> Settings:
    """Settings read from the environment now (not the process-wide cached copy)."""
    return Settings()


def configured_lake() -> Lake:
    """The lake backend the environment selects (``VOICEOPS_LAKE_BACKEND``, ``VOICEOPS_HOME``),
    with the publish gate's check on merges into protected branches."""
    from warehouse.guard import open_guarded_lake

    return open_guarded_lake(current_settings())


def repo_uri(text: str) -> str:
    """The repository of ``lakefs://REPO``."""
    uri = parse_uri(text)
    if uri.ref or uri.path:
        raise CliError(f"{text}: expected a repository URI lakefs://REPO")
    return uri.repository


def ref_uri(text: str) -> LakeURI:
    """``lakefs://REPO/REF`` (a branch, tag or commit), no object path."""
    uri = parse_uri(text)
    uri.require_ref()
    if uri.path:
        raise CliError(f"{text}: expected lakefs://REPO/REF without an object path")
    return uri


def ref_and_prefix_uri(text: str) -> LakeURI:
    """``lakefs://REPO/REF[/PREFIX]``."""
    uri = parse_uri(text, allow_prefix=True)
    uri.require_ref()
    return uri


def object_uri(text: str) -> LakeURI:
    """``lakefs://REPO/REF/PATH`` naming one object (no trailing '/')."""
    uri = parse_uri(text, allow_prefix=False)
    uri.require_ref()
    uri.require_path()
    return uri


def same_repository(first: LakeURI, second: LakeURI) -> str:
    if first.repository != second.repository:
        raise CliError(
            f"{first} and {second} are in different repositories "
            f"({first.repository!r} and {second.repository!r})"
        )
    return first.repository


def parse_meta(items: list[str] | None) -> dict[str, str]:
    """``KEY=VALUE`` items as a dict; a malformed or repeated key is an error naming the item."""
    metadata: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CliError(f"invalid --meta {item!r}: expected KEY=VALUE")
        if key in metadata:
            raise CliError(f"invalid --meta {item!r}: key {key!r} given twice")
        metadata[key] = value
    return metadata
