"""Read the JSON Lines an Airbyte S3 destination wrote onto a branch, and clear them.

Files sit under ``_airbyte/<source>/<stream>/`` of the branch (see ``lake_destination``).
Both layouts of Airbyte's JSONL output are read (docs.airbyte.com/integrations/destinations/s3,
"JSON Lines"; destination-s3 >= 1.5 writes the first):

* records: ``_airbyte_raw_id``, ``_airbyte_extracted_at`` (epoch ms), ``_airbyte_meta``
  (``{"sync_id": <job id>, "changes": [...]}``), ``_airbyte_generation_id``, then either the
  record's own fields (root-level flattening) or the record under ``_airbyte_data``;
* older connectors: ``_airbyte_ab_id``, ``_airbyte_emitted_at``, ``_airbyte_data``.

Nothing is dropped silently: a line that is not a JSON object, or a record the destination
changed on its way (``_airbyte_meta.changes``: a value NULLED or TRUNCATED because it did
not fit the stream schema), becomes a reject with the reason, as embedded mode's preflight
rejects do. Lines of another sync than the one expected mean the staging area was shared
with another run: that is an error, not something to land.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from typing import Any

from ingestion.airbyte.lake_destination import STAGING_ROOT, staging_prefix
from versioning.lake import Lake, ObjectStat

AIRBYTE_COLUMNS = frozenset(
    {
        "_airbyte_raw_id",
        "_airbyte_extracted_at",
        "_airbyte_meta",
        "_airbyte_generation_id",
        "_airbyte_data",
        "_airbyte_ab_id",
        "_airbyte_emitted_at",
    }
)


class StagingMismatch(RuntimeError):
    """The staged files are not (only) the output of the sync being landed."""


@dataclass
class StagedStream:
    """One stream's staged output: clean records, rejects with reasons, and what was read."""

    paths: list[str] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)  # {"reason", "record"}
    lines: int = 0  # records Airbyte wrote (to compare with the job's committed count)


def describe_changes(changes: list[Any]) -> str:
    """``slots NULLED (DESTINATION_SERIALIZATION_ERROR); ...`` from ``_airbyte_meta.changes``."""
    parts = []
    for change in changes:
        if isinstance(change, dict):
            parts.append(f"{change.get('field')} {change.get('change')} ({change.get('reason')})")
        else:
            parts.append(str(change))
    return "; ".join(parts)


def split_line(line: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """``(record, _airbyte_meta)`` of one output line, whichever layout it has."""
    meta = line.get("_airbyte_meta")
    meta = meta if isinstance(meta, dict) else {}
    if "_airbyte_data" in line:
        return line["_airbyte_data"], meta
    return {k: v for k, v in line.items() if k not in AIRBYTE_COLUMNS}, meta


def _read_lines(lake: Lake, repository: str, branch: str, path: str) -> list[bytes]:
    data = lake.read_bytes(repository, branch, path)
    if path.endswith(".gz"):  # the destination's GZIP compression option
        data = gzip.decompress(data)
    return data.splitlines()


def read_staged_stream(
    lake: Lake, repository: str, branch: str, source: str, stream: str, sync_id: int | None
) -> StagedStream:
    """Every record Airbyte staged for ``source``/``stream``; ``sync_id``: the job expected."""
    staged = StagedStream()
    for obj in lake.list_objects(repository, branch, staging_prefix(source, stream)):
        if not isinstance(obj, ObjectStat):
            continue
        staged.paths.append(obj.path)
        for number, raw in enumerate(_read_lines(lake, repository, branch, obj.path), start=1):
            if not raw.strip():
                continue
            staged.lines += 1
            where = f"{obj.path} line {number}"
            text = raw.decode("utf-8", errors="replace")
            try:
                line = json.loads(text)
            except ValueError as exc:
                staged.rejects.append(
                    {"reason": f"staged line not JSON ({where}): {exc}", "record": text}
                )
                continue
            if not isinstance(line, dict):
                reason = f"staged line is a {type(line).__name__}, not an object ({where})"
                staged.rejects.append({"reason": reason, "record": line})
                continue
            record, meta = split_line(line)
            if sync_id is not None and meta.get("sync_id") not in (None, sync_id):
                raise StagingMismatch(
                    f"{where} was written by Airbyte job {meta.get('sync_id')}, not job {sync_id}"
                )
            if meta.get("changes"):
                reason = f"Airbyte changed the record: {describe_changes(meta['changes'])}"
                staged.rejects.append({"reason": reason, "record": record})
            else:
                staged.records.append(record)
    return staged


def clear_staging(lake: Lake, repository: str, branch: str, source: str) -> list[str]:
    """Delete ``_airbyte/<source>/`` of the branch, and loose files right under ``_airbyte/``
    (e.g. what a destination's connection check leaves; never another source's staging,
    which sits in its own directory); returns the deleted paths."""
    source_files = lake.list_objects(repository, branch, staging_prefix(source))
    loose_files = lake.list_objects(repository, branch, f"{STAGING_ROOT}/", delimiter="/")
    paths = [obj.path for obj in [*source_files, *loose_files] if isinstance(obj, ObjectStat)]
    for path in paths:
        lake.delete_object(repository, branch, path)
    return paths
