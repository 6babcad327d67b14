"""Land synced records and recordings on an ingestion branch of the lake, the lakeFS way.

An ingestion run writes to its own branch ``ingest-<date>-<run>`` of the ``contact-center``
repository::

    raw/<source>/<stream>/dt=<date>/part-00000.parquet     records that passed validation
    raw/recordings/dt=<date>/<call id>.wav                 recordings that meet the contract
    quarantine/<source>/<stream>/dt=<date>/rejects.jsonl    every rejected record + its reason
    quarantine/recordings/dt=<date>/<call id>.wav          bad audio, reasons in reasons.jsonl
    _ingest/runs/<run id>/<source>.<stream>.json           what the run landed, incl. sync state

and then commits once, with the counts, connector versions and sync state as commit metadata.
The branch is not merged here: the warehouse audits it and publishes it (write-audit-publish).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.validation import Checked, recording_problem
from versioning.lake import Commit, Lake, NotFoundError
from versioning.lake.repositories import ensure_repository

PART_ROWS = 50_000
META_PREFIX = "voiceops."


def ingest_branch_name(run_id: str, day: date) -> str:
    """``ingest-YYYYMMDD-<run>``: lakeFS branch names allow only letters, digits, _ and -."""
    run = re.sub(r"[^\w-]", "-", run_id)[:12].strip("-") or "run"
    return f"ingest-{day:%Y%m%d}-{run}"


def ensure_ingest_branch(lake: Lake, repository: str, branch: str) -> str:
    """Create the repository (its ``main`` protected) and the branch (from ``main``) when
    missing; return the branch head."""
    default = ensure_repository(lake, repository).default_branch
    try:
        return lake.get_branch(repository, branch).commit_id
    except NotFoundError:
        return lake.create_branch(repository, branch, default).commit_id


@dataclass
class Landing:
    """What one stream (or the recordings) put on the branch."""

    source: str
    stream: str
    day: str
    records: int
    quarantined: int
    bytes: int
    paths: list[str] = field(default_factory=list)
    quarantine_paths: list[str] = field(default_factory=list)
    connector: str = ""
    connector_version: str = ""
    state: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        return f"{self.source}.{self.stream}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _records_table(records: list[dict[str, Any]], schema: pa.Schema | None) -> pa.Table:
    """Records as an Arrow table; nested values become JSON text so the schema stays flat."""
    rows = [
        {
            k: json.dumps(v, ensure_ascii=False, sort_keys=True)
            if isinstance(v, dict | list)
            else v
            for k, v in record.items()
        }
        for record in records
    ]
    if schema is None:
        return pa.Table.from_pylist(rows)
    extra = sorted({k for row in rows for k in row} - set(schema.names))
    if extra:
        schema = schema.append(pa.field("_extra", pa.string()))
        for row in rows:
            row["_extra"] = json.dumps({k: row.pop(k) for k in extra if k in row}, default=str)
    return pa.Table.from_pylist(rows, schema=schema)


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows).encode()


def land_records(
    lake: Lake,
    repository: str,
    branch: str,
    *,
    run_id: str,
    source: str,
    stream: str,
    day: date,
    checked: Checked,
    schema: pa.Schema | None = None,
    connector: str = "",
    connector_version: str = "",
    state: dict[str, Any] | None = None,
) -> Landing:
    """Write valid records as Parquet parts and rejects to quarantine (uncommitted)."""
    partition = f"dt={day.isoformat()}"
    landing = Landing(
        source,
        stream,
        day.isoformat(),
        len(checked.valid),
        len(checked.rejects),
        0,
        connector=connector,
        connector_version=connector_version,
        state=state,
    )
    uploads: list[tuple[str, bytes]] = []
    for part, start in enumerate(range(0, len(checked.valid), PART_ROWS)):
        rows = checked.valid[start : start + PART_ROWS]
        path = f"raw/{source}/{stream}/{partition}/part-{part:05d}.parquet"
        uploads.append((path, _parquet_bytes(_records_table(rows, schema))))
        landing.paths.append(path)
    if checked.rejects:
        path = f"quarantine/{source}/{stream}/{partition}/rejects.jsonl"
        rows = [{"run_id": run_id, "source": source, "stream": stream} | r for r in checked.rejects]
        uploads.append((path, _jsonl(rows)))
        landing.quarantine_paths.append(path)
    landing.bytes = sum(len(data) for _, data in uploads)
    manifest = f"_ingest/runs/{run_id}/{source}.{stream}.json"
    uploads.append((manifest, json.dumps(landing.to_dict(), indent=2).encode()))
    lake.upload_many(repository, branch, uploads)
    return landing


def land_recordings(
    lake: Lake, repository: str, branch: str, *, run_id: str, day: date, directory: Path
) -> Landing:
    """Upload a day's WAV files; ones that break the telephone-band contract go to quarantine."""
    partition = f"dt={day.isoformat()}"
    landing = Landing("recordings", "wav", day.isoformat(), 0, 0, 0)
    uploads: list[tuple[str, Path | bytes]] = []  # files stream from disk: a day can be GBs
    reasons: list[dict[str, Any]] = []
    files = sorted(directory.glob("*.wav")) if directory.is_dir() else []
    for wav in files:
        problem = recording_problem(wav.read_bytes())
        if problem is None:
            path = f"raw/recordings/{partition}/{wav.name}"
            landing.records += 1
            landing.paths.append(path)
        else:
            path = f"quarantine/recordings/{partition}/{wav.name}"
            reasons.append({"run_id": run_id, "file": wav.name, "path": path, "reason": problem})
            landing.quarantined += 1
            landing.quarantine_paths.append(path)
        landing.bytes += wav.stat().st_size
        uploads.append((path, wav))
    if reasons:
        uploads.append((f"quarantine/recordings/{partition}/reasons.jsonl", _jsonl(reasons)))
    summary = {k: v for k, v in landing.to_dict().items() if k not in {"paths"}}
    uploads.append((f"_ingest/runs/{run_id}/recordings.wav.json", json.dumps(summary).encode()))
    lake.upload_many(repository, branch, uploads)
    return landing


def commit_ingestion(
    lake: Lake,
    repository: str,
    branch: str,
    *,
    run_id: str,
    day: date,
    landings: list[Landing],
    extra: dict[str, str] | None = None,
) -> Commit:
    """One commit with everything the run landed; metadata carries counts, connectors, state."""
    metadata = {
        f"{META_PREFIX}kind": "ingestion",
        f"{META_PREFIX}run_id": run_id,
        f"{META_PREFIX}date": day.isoformat(),
        f"{META_PREFIX}sources": ",".join(sorted({x.source for x in landings})),
    } | (extra or {})
    for x in landings:
        metadata[f"records.{x.key}"] = str(x.records)
        metadata[f"quarantined.{x.key}"] = str(x.quarantined)
        if x.connector:
            metadata[f"connector.{x.source}"] = f"{x.connector}=={x.connector_version}"
        if x.state is not None:
            metadata[f"state.{x.key}"] = json.dumps(x.state, sort_keys=True)
    total = sum(x.records for x in landings)
    rejected = sum(x.quarantined for x in landings)
    message = f"Ingest {day.isoformat()}: {total} records, {rejected} quarantined (run {run_id})"
    return lake.commit(repository, branch, message, metadata, allow_empty=True)


def latest_state(
    lake: Lake,
    repository: str,
    key: str,
    *,
    depth: int = 500,
    refused: Callable[[str], bool] | None = None,
) -> dict | None:
    """The newest sync state of ``source.stream`` kept in an ingestion commit.

    Looks at the heads of ``ingest-*`` branches and the history of the default branch, so a
    run resumes from the last run whose branch still exists (a deleted branch takes its
    state with it and its records are pulled again). Heads for which ``refused(commit_id)``
    is true (the publish gate refused them) are skipped too: their records never reached
    the default branch, so the next run pulls them again instead of resuming after them.
    """
    try:
        default = lake.get_repository(repository).default_branch
    except NotFoundError:
        return None
    candidates = [
        lake.get_commit(repository, b.commit_id)
        for b in lake.list_branches(repository)
        if b.id.startswith("ingest-") and not (refused and refused(b.commit_id))
    ]
    candidates += lake.log(repository, default, amount=depth)
    with_state = [c for c in candidates if f"state.{key}" in c.metadata]
    if not with_state:
        return None
    newest = max(with_state, key=lambda c: c.creation_date)
    return json.loads(newest.metadata[f"state.{key}"])
