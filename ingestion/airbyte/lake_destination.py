"""The Airbyte S3 destination that lands a connection on a lake branch (the lakeFS pattern).

lakeFS serves an S3 gateway where the bucket is the repository and a key starts with the
branch (``s3://<repository>/<branch>/<path>``), so Airbyte's S3 destination writes onto a
branch when (https://docs.lakefs.io/integrations/airbyte/)::

    s3_endpoint       the lakeFS S3 gateway, as the Airbyte server reaches it
    s3_bucket_name    the lake repository
    s3_bucket_path    <branch>/_airbyte            (the branch first: lakeFS addressing)
    access_key_id     a lakeFS access key; secret_access_key its secret

With the connection's namespace set to the source name (``custom_format``), a sync writes
uncommitted files onto the branch (destination-s3 >= 1.5, the bulk load CDK, whose default
path and file patterns these are)::

    _airbyte/<source>/<stream>/<YYYY>_<MM>_<DD>_<epoch ms>_<part>.jsonl

JSON Lines with root-level flattening: each line holds the record's own fields beside
``_airbyte_raw_id``, ``_airbyte_extracted_at``, ``_airbyte_meta`` and
``_airbyte_generation_id``. The streams, sync modes, cursors and keys of the connection come
from ``connections/<source>.yaml``; the source's own configuration stays the server's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.settings import Settings
from ingestion.airbyte.connections import Connection, load_connection

STAGING_ROOT = "_airbyte"
S3_PATH_FORMAT = "${NAMESPACE}/${STREAM_NAME}/${YEAR}_${MONTH}_${DAY}_${EPOCH}_"
FILE_NAME_PATTERN = "{part_number}{format_extension}"
JSONL_FORMAT: Mapping[str, Any] = {
    "format_type": "JSONL",
    "flattening": "Root level flattening",
    "compression": {"compression_type": "No Compression"},
}
#: Where setup points a destination before any run: a branch that never exists, so a sync
#: started outside VoiceOps fails at the gateway instead of writing somewhere that matters.
UNSET_BRANCH = "ingest-unset"
#: VoiceOps sync modes -> the public API's. Append, not overwrite: every run writes under a
#: fresh branch, and overwrite would make the destination delete through the gateway.
SYNC_MODES = {"incremental": "incremental_append", "full_refresh": "full_refresh_append"}
LAKE_SOURCES = ("crm", "call_exports")


class LakeDestinationError(ValueError):
    """The lake destination cannot be configured (missing settings, wrong destination)."""


def destination_name(source: str) -> str:
    """The S3 destination VoiceOps owns for ``source``, e.g. ``voiceops-lake-call-exports``."""
    return f"voiceops-lake-{source.replace('_', '-')}"


def server_connection_name(source: str) -> str:
    """The connection (and source) name on the server, e.g. ``voiceops-call-exports``."""
    return f"voiceops-{source.replace('_', '-')}"


def bucket_path(branch: str) -> str:
    """The destination's ``s3_bucket_path``: the branch, then the staging root."""
    return f"{branch}/{STAGING_ROOT}"


def staging_prefix(source: str, stream: str | None = None) -> str:
    """Where a sync's files are, as a path on the branch: ``_airbyte/<source>/[<stream>/]``."""
    return f"{STAGING_ROOT}/{source}/" + (f"{stream}/" if stream else "")


def s3_destination_configuration(settings: Settings, repository: str, branch: str) -> dict:
    """The S3 destination configuration (public API, ``destinationType: s3``) for ``branch``."""
    secret = settings.airbyte_lake_secret_access_key.get_secret_value()
    missing = [
        name
        for name, value in (
            ("VOICEOPS_AIRBYTE_LAKE_S3_ENDPOINT", settings.airbyte_lake_s3_endpoint),
            ("VOICEOPS_AIRBYTE_LAKE_ACCESS_KEY_ID", settings.airbyte_lake_access_key_id),
            ("VOICEOPS_AIRBYTE_LAKE_SECRET_ACCESS_KEY", secret),
        )
        if not value
    ]
    if missing:
        raise LakeDestinationError(
            f"Airbyte server mode lands through the lake's S3 gateway: set {', '.join(missing)}"
        )
    return {
        "destinationType": "s3",
        "s3_endpoint": settings.airbyte_lake_s3_endpoint.rstrip("/"),
        "s3_bucket_name": repository,
        "s3_bucket_path": bucket_path(branch),
        "s3_bucket_region": settings.airbyte_lake_s3_region,
        "access_key_id": settings.airbyte_lake_access_key_id,
        "secret_access_key": secret,
        "format": dict(JSONL_FORMAT),
        "s3_path_format": S3_PATH_FORMAT,
        "file_name_pattern": FILE_NAME_PATTERN,
    }


class _Blank(dict):
    """Fills every ``${NAME}`` placeholder with "": only the streams of the YAML are used."""

    def __bool__(self) -> bool:  # load_connection replaces a falsy mapping by {}
        return True

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> str:
        return ""


def lake_connection(source: str) -> Connection:
    """``connections/<source>.yaml`` for its streams (the source config is the server's)."""
    return load_connection(source, _Blank())


def stream_configurations(connection: Connection) -> list[dict]:
    """The public API's ``configurations.streams`` for the YAML's streams."""
    streams = []
    for stream in connection.streams.values():
        entry: dict[str, Any] = {"name": stream.name, "syncMode": SYNC_MODES[stream.sync_mode]}
        if stream.sync_mode == "incremental" and stream.cursor_field:
            entry["cursorField"] = [stream.cursor_field]
        if stream.primary_key:
            entry["primaryKey"] = [[key] for key in stream.primary_key]
        streams.append(entry)
    return streams


def connection_settings(source: str) -> dict:
    """What VoiceOps sets on the connection of ``source`` (create or PATCH body, without ids):
    the YAML's streams, the source name as namespace (-> ``_airbyte/<source>/``), no prefix
    (the stream directory is the bare stream name), manual schedule (Dagster triggers)."""
    return {
        "namespaceDefinition": "custom_format",
        "namespaceFormat": source,
        "prefix": "",
        "configurations": {"streams": stream_configurations(lake_connection(source))},
        "schedule": {"scheduleType": "manual"},
    }
