"""Embedded Airbyte: run the CRM, call-export and voice-corpus connections in this process.

What the lake ingestion calls::

    syncs = sync_crm(base_url, ["customers", "tickets"], state=previous)   # one StreamSync each
    state_for_next_run = crm_state(syncs)
    calls = sync_call_exports(export_file, state=previous_calls_state)
    corpus = sync_voice_corpus(manifest_file, state=previous_corpus_state)

* CRM: the declarative manifest ``manifests/crm.yaml`` runs in-process (airbyte-cdk), with the
  incremental state passed through (see ``declarative.py``). ``state`` is what
  :func:`crm_state` returned last time: ``{stream: <Airbyte STREAM state message dict>}``.
* Call exports: ``source-file`` (pinned, installed from PyPI into its own venv under
  ``AIRBYTE_INSTALL_DIR``, default ``$VOICEOPS_HOME/airbyte/connectors``, under a file lock
  so parallel processes install it once) reads a sanitized
  copy of the day file after the JSONL preflight. Incremental per file: ``state`` lists the
  files (path + sha256) already synced; a file synced before returns no records.
* Voice corpus: the same connector over a studio delivery's ``manifest.jsonl``
  (``connections/voice_corpus.yaml``), incremental per manifest file in the same way.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from hashlib import sha256
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from ingestion.airbyte import environment
from ingestion.airbyte.connections import Connection, load_connection
from ingestion.airbyte.preflight import Preflight, preflight_jsonl

CALLS_STREAM = "calls"
VOICE_CORPUS_STREAM = "utterances"


@dataclass
class StreamSync:
    """One stream's result of a sync."""

    connection: str  # "crm" | "call_exports" | "voice_corpus"
    stream: str  # "customers" | "tickets" | "calls" | "utterances"
    records: list[dict]  # as the connector emitted them (no Airbyte meta columns)
    rejects: list[dict]  # {"line": n, "raw": str, "reason": str} from the preflight
    state: dict | None  # the stream's new state (JSON-serializable), for the next run
    connector: str  # e.g. "source-file" / "declarative:crm"
    connector_version: str  # e.g. "0.5.39" / "7.39.1+<manifest sha> (airbyte-cdk 7.39.1)"
    seconds: float = 0.0  # wall time of the sync (for reports; never assert on it)


def crm_state(syncs: list[StreamSync]) -> dict[str, dict]:
    """The ``state`` to pass to the next :func:`sync_crm` from this run's results."""
    return {sync.stream: sync.state for sync in syncs if sync.state}


# -- CRM ----------------------------------------------------------------------------------


def manifest_version(manifest: Path) -> str:
    """``<manifest version>+<sha256[:12] of the file>`` plus the airbyte-cdk version."""
    import yaml

    text = manifest.read_bytes()
    declared = yaml.safe_load(text).get("version", "?")
    digest = sha256(text).hexdigest()[:12]
    return f"{declared}+{digest} (airbyte-cdk {package_version('airbyte-cdk')})"


def normalize_crm_state(state: Mapping[str, Any] | list | None) -> dict[str, dict]:
    """Accept ``{stream: message}`` (from :func:`crm_state`) or a list of state messages."""
    if not state:
        return {}
    if isinstance(state, list):
        return {message["stream"]["stream_descriptor"]["name"]: message for message in state}
    return {stream: message for stream, message in state.items() if message}


def sync_crm(
    base_url: str, streams: list[str], state: Mapping[str, Any] | list | None
) -> list[StreamSync]:
    """Sync ``streams`` of the CRM API at ``base_url``; from ``state`` when given (incremental)."""
    environment.prepare()
    from ingestion.airbyte.declarative import declarative_source
    from ingestion.airbyte.reader import read_streams

    connection = load_connection("crm", {"CRM_BASE_URL": base_url})
    unknown = set(streams) - set(connection.streams)
    if unknown:
        raise ValueError(f"no CRM stream(s) {sorted(unknown)}: has {sorted(connection.streams)}")
    assert connection.manifest is not None
    previous = normalize_crm_state(state)
    started = time.monotonic()
    source = declarative_source(connection.source_name, connection.manifest, connection.config)
    outcome = read_streams(source, {name: connection.streams[name] for name in streams}, previous)
    seconds = time.monotonic() - started
    version = manifest_version(connection.manifest)
    return [
        StreamSync(
            connection=connection.name,
            stream=name,
            records=outcome.records.get(name, []),
            rejects=[],
            state=outcome.states.get(name) or previous.get(name),
            connector=f"declarative:{connection.manifest.stem}",
            connector_version=version,
            seconds=seconds,
        )
        for name in streams
    ]


# -- JSONL files through source-file: call exports, voice-corpus manifests ----------------


def file_source(
    connection: Connection, config: dict[str, Any], install_root: Path | None = None
) -> Any:
    """The pinned PyPI connector of ``connection``, installed into its own venv if missing."""
    import airbyte
    from filelock import FileLock

    install_root = install_root or environment.install_dir()
    package = f"airbyte-{connection.source_name}"
    pinned = f"{package}=={connection.version}" if connection.version else package
    install_root.mkdir(parents=True, exist_ok=True)
    # one installer at a time per install dir: two processes (parallel runs, test workers)
    # creating the same connector venv at once would break it
    with FileLock(install_root / f".{connection.source_name}.lock"):
        source = airbyte.get_source(
            connection.source_name, pip_url=pinned, install_root=install_root, config=config
        )
        executor = source.executor
        installed = executor.get_installed_version(recheck=True)
        if connection.version and installed != connection.version:
            executor.uninstall()  # an older install of another version: replace it
            executor.install()
    return source


def _already_synced(state: Mapping[str, Any] | None, path: str, digest: str) -> bool:
    files = (state or {}).get("files", [])
    return any(entry.get("path") == path and entry.get("sha256") == digest for entry in files)


def _with_file(state: Mapping[str, Any] | None, stream: str, entry: dict[str, Any]) -> dict:
    files = [dict(item) for item in (state or {}).get("files", [])]
    files.append(entry)
    return {"type": "files", "stream": stream, "files": files}


@dataclass(frozen=True)
class FileConnection:
    """A source-file connection over one JSONL file per sync (call exports, voice corpus)."""

    name: str  # connections/<name>.yaml
    stream: str
    variable: str  # the placeholder of the file's path in the YAML


CALL_EXPORTS = FileConnection("call_exports", CALLS_STREAM, "EXPORT_FILE")
VOICE_CORPUS = FileConnection("voice_corpus", VOICE_CORPUS_STREAM, "MANIFEST_FILE")


def sync_jsonl_file(
    spec: FileConnection,
    path: Path,
    state: Mapping[str, Any] | None,
    *,
    install_dir: Path | None = None,
) -> StreamSync:
    """Sync one JSONL file through the source-file connection ``spec``; nothing if ``state``
    says it was synced. Lines that are not a JSON object come back as ``rejects``."""
    environment.prepare()
    path = Path(path).resolve()
    started = time.monotonic()
    checked = preflight_jsonl(path)
    connection = load_connection(spec.name, {spec.variable: str(path)})
    result = StreamSync(
        connection=connection.name,
        stream=spec.stream,
        records=[],
        rejects=[],
        state=dict(state) if state else None,
        connector=connection.source_name,
        connector_version=connection.version or "unpinned",
    )
    if _already_synced(state, str(path), checked.sha256):
        result.seconds = time.monotonic() - started
        return result

    if checked.good_lines:
        result.records = _read_sanitized(spec, checked, install_dir)
    result.rejects = checked.rejects
    result.state = _with_file(
        state,
        spec.stream,
        {
            "path": str(path),
            "sha256": checked.sha256,
            "records": len(result.records),
            "rejects": len(result.rejects),
        },
    )
    result.seconds = time.monotonic() - started
    return result


def sync_call_exports(
    export_file: Path, state: Mapping[str, Any] | None, *, install_dir: Path | None = None
) -> StreamSync:
    """Sync one day's ``calls.jsonl`` via source-file; nothing if ``state`` says it was synced.

    ``install_dir``: where the connector venv lives (default :func:`environment.install_dir`).
    """
    return sync_jsonl_file(CALL_EXPORTS, export_file, state, install_dir=install_dir)


def sync_voice_corpus(
    manifest: Path, state: Mapping[str, Any] | None, *, install_dir: Path | None = None
) -> StreamSync:
    """Sync a voice-corpus delivery's ``manifest.jsonl`` via source-file (the WAVs are not
    Airbyte's: see :func:`ingestion.lake_landing.land_wavs`); nothing if already synced."""
    return sync_jsonl_file(VOICE_CORPUS, manifest, state, install_dir=install_dir)


def _read_sanitized(
    spec: FileConnection, checked: Preflight, install_dir: Path | None
) -> list[dict]:
    """Write the good lines to a work dir and read them through the connector."""
    from ingestion.airbyte.reader import read_streams

    with tempfile.TemporaryDirectory(prefix=f"{spec.name}-", dir=environment.work_dir()) as work:
        sanitized = checked.write_sanitized(Path(work) / checked.source.name)
        connection = load_connection(spec.name, {spec.variable: os.fspath(sanitized)})
        source = file_source(connection, connection.config, install_dir)
        outcome = read_streams(source, connection.streams)
    records = outcome.records.get(spec.stream, [])
    if len(records) != len(checked.good_lines):
        raise RuntimeError(
            f"source-file read {len(records)} records from {len(checked.good_lines)} good lines "
            f"of {checked.source}"
        )
    return records
