"""Connections as YAML (``ingestion/airbyte/connections/<name>.yaml``).

A connection names its source (a PyPI connector with a pinned version, or a declarative
manifest), the source config, and the streams with their sync mode and cursor field.
Config strings may hold ``${NAME}`` or ``${NAME:-default}`` placeholders, filled from the
variables the runner passes (e.g. ``CRM_BASE_URL``), then from the environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

CONNECTIONS_DIR = Path(__file__).with_name("connections")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

SyncModeName = Literal["incremental", "full_refresh"]


class ConnectionFileError(ValueError):
    """A connection file that cannot be used."""


@dataclass(frozen=True)
class StreamConfig:
    name: str
    sync_mode: SyncModeName
    cursor_field: str | None = None
    primary_key: tuple[str, ...] = ()


@dataclass(frozen=True)
class Connection:
    name: str
    source_name: str
    config: dict[str, Any]
    streams: dict[str, StreamConfig]
    version: str | None = None  # PyPI connectors: the pinned version
    manifest: Path | None = None  # declarative sources: the manifest file
    options: dict[str, Any] = field(default_factory=dict)  # e.g. {"preflight": "jsonl"}


def substitute(value: Any, variables: Mapping[str, str]) -> Any:
    """Fill ``${NAME}`` / ``${NAME:-default}`` in every string of ``value``."""
    if isinstance(value, dict):
        return {key: substitute(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, variables) for item in value]
    if not isinstance(value, str):
        return value

    def fill(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in variables:
            return variables[name]
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ConnectionFileError(f"placeholder ${{{name}}} has no value (pass it or set it)")

    return _PLACEHOLDER.sub(fill, value)


def load_connection(
    name: str, variables: Mapping[str, str] | None = None, directory: Path = CONNECTIONS_DIR
) -> Connection:
    """Read ``<directory>/<name>.yaml`` and fill its placeholders."""
    path = directory / f"{name}.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        source = raw["source"]
        streams = {
            stream: StreamConfig(
                name=stream,
                sync_mode=spec.get("sync_mode", "incremental"),
                cursor_field=spec.get("cursor_field"),
                primary_key=tuple(spec.get("primary_key", ())),
            )
            for stream, spec in raw["streams"].items()
        }
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConnectionFileError(f"{path}: missing or malformed key {exc}") from exc
    for stream in streams.values():
        if stream.sync_mode not in ("incremental", "full_refresh"):
            raise ConnectionFileError(
                f"{path}: stream {stream.name}: bad sync_mode {stream.sync_mode}"
            )
    manifest = source.get("manifest")
    return Connection(
        name=raw.get("name", name),
        source_name=source["name"],
        version=source.get("version"),
        manifest=(path.parent / manifest).resolve() if manifest else None,
        config=substitute(raw.get("config", {}), variables or {}),
        streams=streams,
        options=raw.get("options", {}),
    )
