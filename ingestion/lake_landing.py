"""Land synced records and recordings on an ingestion branch of the lake, the lakeFS way.

An ingestion run writes to its own branch ``ingest-<date>-<run>`` of the ``contact-center``
repository::

    raw/<source>/<stream>/dt=<date>/part-00000.parquet     records that passed validation
    raw/recordings/dt=<date>/<call id>.wav                 recordings that meet the contract
    raw/voice_corpus/audio/dt=<date>/<utterance id>.wav    voice-corpus WAVs (studio deliveries)
    quarantine/<source>/<stream>/dt=<date>/rejects.jsonl    every rejected record + its reason
    quarantine/recordings/dt=<date>/<call id>.wav          bad audio, reasons in reasons.jsonl
    quarantine/voice_corpus/audio/dt=<date>/...            the same for voice-corpus WAVs
    _ingest/runs/<run id>/<source>.<stream>.json           what the run landed, incl. sync state

and then commits once, with the counts, connector versions and sync state as commit metadata.
The branch is not merged here: the warehouse audits it and publishes it (write-audit-publish).

Personal data is sealed before it is written (``core.sealing``, crypto-shredding): every
field of a record naming a ``customer_id`` except the structural ones (ids, times, language,
intent...) is an AES-GCM token under that customer's key, a quarantined record is sealed
whole, and the WAV of a call whose customer is known (from the day's call export) is a
sealed blob. Erasure destroys the key, so the committed objects never change. Records,
rejects and recordings of an erased customer (the suppression list) are not landed: they
are counted in ``Landing.erased``; WAVs with no known owner are landed plain and counted in
``Landing.unattributed``.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from core.sealing import Sealer
from ingestion.validation import Checked, recording_problem
from versioning.lake import Commit, Lake, NotFoundError
from versioning.lake.repositories import ensure_repository

PART_ROWS = 50_000
#: Sealed recordings are bytes in memory: uploaded whenever this many are pending.
SEALED_BATCH_BYTES = 64 << 20
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
    erased: int = 0
    unattributed: int = 0

    @property
    def key(self) -> str:
        return f"{self.source}.{self.stream}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _flat_rows(
    records: list[dict[str, Any]], schema: pa.Schema | None
) -> tuple[list[dict[str, Any]], pa.Schema | None]:
    """Records with nested values as JSON text (the schema stays flat) and fields the schema
    lacks gathered in an ``_extra`` JSON text column (added to the schema)."""
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
        return rows, None
    extra = sorted({k for row in rows for k in row} - set(schema.names))
    if extra:
        schema = schema.append(pa.field("_extra", pa.string()))
        for row in rows:
            row["_extra"] = json.dumps({k: row.pop(k) for k in extra if k in row}, default=str)
    return rows, schema


def _records_table(rows: list[dict[str, Any]], schema: pa.Schema | None) -> pa.Table:
    """Flat rows (see ``_flat_rows``) as an Arrow table."""
    if schema is None:
        return pa.Table.from_pylist(rows)
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
    sealer: Sealer,
) -> Landing:
    """Write valid records (sealed) as Parquet parts and rejects (sealed) to quarantine
    (uncommitted); an erased customer's records and rejects are counted, not written."""
    partition = f"dt={day.isoformat()}"
    flat, schema = _flat_rows(checked.valid, schema)
    sealer.preload(row.get("customer_id") for row in flat)
    valid = _sealed(flat, sealer.seal_record)  # after flattening: _extra is one sealed value
    rejects = _sealed(checked.rejects, sealer.seal_reject)
    landing = Landing(
        source,
        stream,
        day.isoformat(),
        len(valid),
        len(rejects),
        0,
        connector=connector,
        connector_version=connector_version,
        state=state,
        erased=len(checked.valid) - len(valid) + len(checked.rejects) - len(rejects),
    )
    uploads: list[tuple[str, bytes]] = []
    for part, start in enumerate(range(0, len(valid), PART_ROWS)):
        rows = valid[start : start + PART_ROWS]
        path = f"raw/{source}/{stream}/{partition}/part-{part:05d}.parquet"
        uploads.append((path, _parquet_bytes(_records_table(rows, schema))))
        landing.paths.append(path)
    if rejects:
        path = f"quarantine/{source}/{stream}/{partition}/rejects.jsonl"
        rows = [{"run_id": run_id, "source": source, "stream": stream} | r for r in rejects]
        uploads.append((path, _jsonl(rows)))
        landing.quarantine_paths.append(path)
    landing.bytes = sum(len(data) for _, data in uploads)
    manifest = f"_ingest/runs/{run_id}/{source}.{stream}.json"
    uploads.append((manifest, json.dumps(landing.to_dict(), indent=2).encode()))
    lake.upload_many(repository, branch, uploads)
    return landing


def _sealed(
    rows: list[dict[str, Any]], seal: Callable[[dict[str, Any]], dict[str, Any] | None]
) -> list[dict[str, Any]]:
    """``rows`` sealed; rows of an erased subject (``seal`` returns None) left out."""
    return [sealed for sealed in map(seal, rows) if sealed is not None]


def _recording_upload(
    wav: Path, data: bytes, owner: str | None, sealer: Sealer
) -> Path | bytes | None:
    """What to upload for ``wav``: the file itself (no owner: streamed from disk), its
    sealed bytes, or None (its owner was erased)."""
    if owner is None:
        return wav
    return sealer.seal_blob(owner, data)


def call_owners(export: Path) -> dict[str, str]:
    """Call id -> customer id from a day's call export (JSON lines); lines that do not parse
    or lack either id are skipped (their WAVs land unattributed, and are counted); a call id
    claimed twice belongs to its first record (a later duplicate is a bad record)."""
    owners: dict[str, str] = {}
    if not export.is_file():
        return owners
    with export.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            try:
                call = json.loads(line)
            except ValueError:
                continue
            if not isinstance(call, dict):
                continue
            call_id, customer = call.get("call_id"), call.get("customer_id")
            if isinstance(call_id, str) and isinstance(customer, str) and call_id and customer:
                owners.setdefault(call_id, customer)  # a duplicated id: the first call owns it
    return owners


def land_recordings(
    lake: Lake,
    repository: str,
    branch: str,
    *,
    run_id: str,
    day: date,
    directory: Path,
    sealer: Sealer,
    owners: Mapping[str, str],
) -> Landing:
    """Upload a day's WAV files, sealed under the customer of their call (``owners``: call
    id -> customer id); ones that break the telephone-band contract go to quarantine (sealed
    too). An erased customer's WAVs are counted in ``erased``, not uploaded; WAVs of calls
    with no known customer are uploaded plain and counted in ``unattributed``."""
    files = sorted(directory.glob("*.wav")) if directory.is_dir() else []
    return land_wavs(
        lake,
        repository,
        branch,
        run_id=run_id,
        day=day,
        files=files,
        sealer=sealer,
        owners=owners,
        area=RECORDINGS_AREA,
    )


@dataclass(frozen=True)
class WavArea:
    """Where a kind of WAV lands: ``raw/<prefix>/dt=<day>/<stem>.wav`` (quarantine alike),
    counted as ``<source>.<stream>``; ``personal``: owned by callers (sealed when known)."""

    prefix: str
    source: str
    stream: str
    personal: bool = True


RECORDINGS_AREA = WavArea("recordings", "recordings", "wav")
#: Studio recordings of the voice corpus: read speech, no caller's personal data.
VOICE_CORPUS_AUDIO_AREA = WavArea("voice_corpus/audio", "voice_corpus", "audio", personal=False)


def land_wavs(
    lake: Lake,
    repository: str,
    branch: str,
    *,
    run_id: str,
    day: date,
    files: list[Path],
    sealer: Sealer,
    owners: Mapping[str, str],
    area: WavArea,
) -> Landing:
    """Upload WAV ``files`` under ``area``, each sealed under its owner (``owners``: file stem
    -> customer id); ones that break the telephone-band contract go to quarantine with their
    reason. An erased owner's WAVs are counted in ``erased``, not uploaded; a personal area's
    WAVs with no known owner are uploaded plain and counted in ``unattributed``."""
    partition = f"dt={day.isoformat()}"
    landing = Landing(area.source, area.stream, day.isoformat(), 0, 0, 0)
    uploads: list[tuple[str, Path | bytes]] = []  # plain files stream from disk: GBs a day
    pending = 0  # bytes of sealed recordings held in ``uploads``
    reasons: list[dict[str, Any]] = []
    sealer.preload(owners[wav.stem] for wav in files if wav.stem in owners)
    for wav in files:
        data = wav.read_bytes()
        owner = owners.get(wav.stem)
        upload = _recording_upload(wav, data, owner, sealer)
        if upload is None:
            landing.erased += 1
            continue
        landing.unattributed += area.personal and owner is None
        problem = recording_problem(data)
        if problem is None:
            path = f"raw/{area.prefix}/{partition}/{wav.name}"
            landing.records += 1
            landing.paths.append(path)
        else:
            path = f"quarantine/{area.prefix}/{partition}/{wav.name}"
            reasons.append({"run_id": run_id, "file": wav.name, "path": path, "reason": problem})
            landing.quarantined += 1
            landing.quarantine_paths.append(path)
        landing.bytes += len(upload) if isinstance(upload, bytes) else len(data)
        uploads.append((path, upload))
        pending += len(upload) if isinstance(upload, bytes) else 0
        if pending >= SEALED_BATCH_BYTES:
            lake.upload_many(repository, branch, uploads)
            uploads, pending = [], 0
    if reasons:
        uploads.append((f"quarantine/{area.prefix}/{partition}/reasons.jsonl", _jsonl(reasons)))
    summary = {k: v for k, v in landing.to_dict().items() if k not in {"paths"}}
    uploads.append((f"_ingest/runs/{run_id}/{landing.key}.json", json.dumps(summary).encode()))
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
        if x.erased:
            metadata[f"erased.{x.key}"] = str(x.erased)
        if x.unattributed:
            metadata[f"unattributed.{x.key}"] = str(x.unattributed)
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
