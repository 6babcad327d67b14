"""One Airbyte server sync onto an ingest branch: before the sync, and landing after it.

Per run and connection (the Dagster assets call these in order)::

    point_connection_at_branch(api, settings, connection_id, source, repository, branch)
    clear_staging(...)                         # a retried step starts from an empty staging area
    restore_stream_states(api, connection_id, lake_states)
    ... the sync (dagster-airbyte) ...
    land_staged_stream(...) for each stream    # validate + raw/ Parquet + quarantine/ rejects
    clear_staging(...)                         # staged JSONL never reaches a commit

Landing reuses embedded mode's pieces (``ingestion.validation``, ``ingestion.lake_landing``),
so both modes put the same ``raw/`` and ``quarantine/`` objects on the branch for the same
records. The staged files are deleted before the commit: the warehouse reads only ``raw/``
and ``quarantine/``, every staged record is in one of them, and a branch published with
``_airbyte/`` in it would hand the files to the next run's branch (made from ``main``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from core.sealing import Sealer
from core.settings import Settings
from ingestion import lake_landing, schemas, validation
from ingestion.airbyte.lake_destination import (
    LakeDestinationError,
    connection_settings,
    destination_name,
    s3_destination_configuration,
)
from ingestion.airbyte.server_api import AirbyteServerApi
from ingestion.airbyte.staged import StagingMismatch, read_staged_stream
from versioning.lake import Lake


def point_connection_at_branch(
    api: AirbyteServerApi,
    settings: Settings,
    connection_id: str,
    source: str,
    repository: str,
    branch: str,
) -> str:
    """PATCH the connection's lake destination to write to ``branch`` and the connection to
    the YAML's streams and namespace; returns the destination id.

    The branch goes into the destination's ``s3_bucket_path``: a connection's destination
    cannot be changed by PATCH (public API), and the namespace cannot carry it (the key's
    first segment is the bucket path).
    """
    connection = api.get_connection(connection_id)
    destination_id = str(connection["destinationId"])
    destination = api.get_destination(destination_id)
    expected = destination_name(source)
    if destination.get("destinationType") != "s3" or destination.get("name") != expected:
        raise LakeDestinationError(
            f"Airbyte connection {connection.get('name')!r} writes to destination "
            f"{destination.get('name')!r} ({destination.get('destinationType')}), not to the "
            f"lake destination {expected!r}: run `python -m ingestion.airbyte.lake_setup "
            "--replace` once"
        )
    api.patch_destination(
        destination_id, s3_destination_configuration(settings, repository, branch)
    )
    api.patch_connection(connection_id, connection_settings(source))
    return destination_id


def restore_stream_states(
    api: AirbyteServerApi, connection_id: str, messages: Mapping[str, Mapping[str, Any] | None]
) -> dict[str, Mapping[str, Any]]:
    """Make Airbyte resume from the state kept in the lake (as embedded mode does): a stream
    whose last branch was deleted or refused by the publish gate is pulled again."""
    kept = {
        stream: message
        for stream, message in messages.items()
        if message and message.get("type") == "STREAM"  # not a full-refresh stream's job note
    }
    api.set_stream_states(connection_id, kept)
    return kept


def check_stream(source: str, stream: str, records: list[Any]) -> validation.Checked:
    """Embedded mode's validation of ``source``/``stream``."""
    if (source, stream) == ("call_exports", "calls"):
        return validation.check_calls(records)
    if source == "crm" and stream in validation.CRM_PRIMARY_KEYS:
        return validation.check_crm(stream, records)
    raise ValueError(f"no validation for stream {source}/{stream}: refusing to land it unchecked")


def land_staged_stream(
    lake: Lake,
    repository: str,
    branch: str,
    *,
    run_id: str,
    day: date,
    source: str,
    stream: str,
    sync_id: int | None,
    records_committed: int | None,
    connector: str,
    connector_version: str,
    state: dict[str, Any] | None,
    sealer: Sealer,
) -> lake_landing.Landing:
    """Validate what Airbyte staged for one stream and land it like embedded mode (uncommitted,
    personal fields sealed with ``sealer``).

    ``records_committed``: the job's count for the stream; a different number of staged lines
    means records are missing (or extra) on the branch, and nothing is landed.
    """
    staged = read_staged_stream(lake, repository, branch, source, stream, sync_id)
    if records_committed is not None and staged.lines != records_committed:
        raise StagingMismatch(
            f"Airbyte job {sync_id} committed {records_committed} {source}/{stream} records, "
            f"the branch {branch} holds {staged.lines} in {len(staged.paths)} file(s)"
        )
    checked = check_stream(source, stream, staged.records)
    checked.rejects.extend(staged.rejects)
    return lake_landing.land_records(
        lake,
        repository,
        branch,
        run_id=run_id,
        source=source,
        stream=stream,
        day=day,
        checked=checked,
        schema=schemas.BY_STREAM.get((source, stream)),
        connector=connector,
        connector_version=connector_version,
        state=state,
        sealer=sealer,
    )
