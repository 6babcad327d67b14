"""Ingestion on an Airbyte server: the workspace client, the asset-key translator, job metadata.

When ``settings.airbyte_server_mode`` is true (``AIRBYTE_REST_API_BASE_URL`` is set), the
sources are synced by an Airbyte server instead of the embedded connectors, and Dagster only
triggers and watches the sync jobs through ``dagster-airbyte``.

The server assets keep the keys of the embedded mode, so everything downstream is unchanged:

==============================  =========================================================
Airbyte connection (name)       Dagster asset keys (one per selected stream)
==============================  =========================================================
``voiceops-crm`` (or ``crm``)   ``airbyte/crm/customers``, ``airbyte/crm/tickets``
``voiceops-call-exports``       ``airbyte/call_exports/calls``
(or ``call_exports``)
any other connection ``X``      ``airbyte/<X sanitized>/<stream sanitized>``
==============================  =========================================================

Connection names are matched after sanitizing (lower case, runs of other characters than
``[a-z0-9_]`` become ``_``), so ``VoiceOps CRM`` is ``voiceops_crm`` and maps to ``crm``.
A connection's stream prefix is ignored: the key uses the bare stream name.

Environment (see ``core.settings``): ``AIRBYTE_REST_API_BASE_URL`` (public API, e.g.
``http://airbyte:8000/api/public/v1``), ``AIRBYTE_CONFIGURATION_API_BASE_URL`` (config API,
default: the public URL with ``/api/public/v1`` replaced by ``/api/v1``),
``AIRBYTE_WORKSPACE_ID``, ``AIRBYTE_CLIENT_ID`` / ``AIRBYTE_CLIENT_SECRET`` (optional;
exchanged for a bearer token at ``POST {public}/applications/token``).

Lake connections (those whose source is ``crm`` or ``call_exports``) do not stop at the sync:
their destination is the lake's S3 gateway, pointed at the run's ingest branch, and their
assets are the daily-partitioned ``server_lake_assets`` of ``orchestration/defs/ingestion``
(materialized by ``land_day_job``), which land and validate what Airbyte staged as embedded
mode lands its records. Other connections stay plain sync assets. Set the lake connections
up once with ``python -m ingestion.airbyte.lake_setup`` (see ``lake_setup.py``).

Besides the per-stream metadata of ``dagster-airbyte``, each materialization records the sync
job: ``airbyte_job_id``, ``airbyte_job_status``, ``airbyte_rows_synced``,
``airbyte_bytes_synced`` and, when the config API reports them, the stream's own
``airbyte_records_emitted`` / ``airbyte_records_committed`` (and ``records``, the key the
embedded assets use).
"""

import re
from collections.abc import Iterator, Mapping
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetSpec,
    Failure,
    MaterializeResult,
    MetadataValue,
)
from dagster_airbyte import (
    AirbyteWorkspace,
    DagsterAirbyteTranslator,
)
from dagster_airbyte.translator import (
    AirbyteConnection,
    AirbyteConnectionTableProps,
    AirbyteMetadataSet,
)
from dagster_airbyte.utils import (
    get_airbyte_connection_table_name,
    get_translator_from_airbyte_assets,
)

from core.settings import Settings

AIRBYTE_RESOURCE_KEY = "airbyte"
"""Resource key the server assets require (``build_airbyte_assets_definitions`` fixes it)."""
LAKE_RESOURCE_KEY = "lake"
INGESTION_GROUP = "ingestion"
ASSET_KEY_ROOT = "airbyte"
PUBLIC_API_SUFFIX = "/api/public/v1"
CONFIG_API_SUFFIX = "/api/v1"

CONNECTION_SOURCES: Mapping[str, str] = {
    "voiceops_crm": "crm",
    "crm": "crm",
    "voiceops_call_exports": "call_exports",
    "call_exports": "call_exports",
}
"""Sanitized Airbyte connection name → source name used in the asset key."""

_UNSAFE = re.compile(r"[^a-z0-9_]+")


def sanitize_name(name: str) -> str:
    """Lower-case ``name`` and replace runs of characters outside ``[a-z0-9_]`` by ``_``."""
    return _UNSAFE.sub("_", name.strip().lower()).strip("_") or "unnamed"


def source_name_for_connection(connection_name: str) -> str:
    """The source part of the asset key for an Airbyte connection name."""
    sanitized = sanitize_name(connection_name)
    return CONNECTION_SOURCES.get(sanitized, sanitized)


def server_asset_key(connection_name: str, stream_name: str) -> AssetKey:
    """``airbyte/<source>/<stream>``: the key the embedded mode uses for the same table."""
    return AssetKey(
        [ASSET_KEY_ROOT, source_name_for_connection(connection_name), sanitize_name(stream_name)]
    )


class VoiceOpsAirbyteTranslator(DagsterAirbyteTranslator):
    """Maps Airbyte connection streams onto the embedded-mode asset keys, group and kinds."""

    def get_asset_spec(self, props: AirbyteConnectionTableProps) -> AssetSpec:
        """The default spec (schema, table and connection metadata) with VoiceOps naming."""
        return (
            super()
            .get_asset_spec(props)
            .replace_attributes(
                key=server_asset_key(props.connection_name, props.stream_name),
                group_name=INGESTION_GROUP,
                kinds={"airbyte"},
            )
        )


def _job_metadata(job_details: Mapping[str, Any]) -> dict[str, Any]:
    """Job-level metadata from a public API ``JobResponse``."""
    metadata: dict[str, Any] = {
        "airbyte_job_id": MetadataValue.int(int(job_details["jobId"])),
        "airbyte_job_status": MetadataValue.text(str(job_details.get("status", ""))),
    }
    for source, target in (
        ("rowsSynced", "airbyte_rows_synced"),
        ("bytesSynced", "airbyte_bytes_synced"),
    ):
        if job_details.get(source) is not None:
            metadata[target] = MetadataValue.int(int(job_details[source]))
    return metadata


def _stream_stats(job_info: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Per-stream stats of the last attempt of a config API ``JobInfoRead``."""
    attempts = job_info.get("attempts") or []
    if not attempts:
        return {}
    last = attempts[-1].get("attempt") or attempts[-1]
    return {
        str(s["streamName"]): s.get("stats") or {}
        for s in last.get("streamStats") or []
        if "streamName" in s
    }


_JOB_ID = re.compile(r"\bjob\D*?(\d+)", re.IGNORECASE)
"""The job id in dagster-airbyte's failures ("Job failed: 12", "Airbyte job 12 is not...")."""


def _failure_messages(job_info: Mapping[str, Any]) -> list[str]:
    """The failure messages of the last attempt of a ``JobInfoRead``."""
    attempts = job_info.get("attempts") or []
    if not attempts:
        return []
    last = attempts[-1].get("attempt") or attempts[-1]
    failures = (last.get("failureSummary") or {}).get("failures") or []
    return [str(f.get("externalMessage") or f.get("internalMessage")) for f in failures]


class VoiceOpsAirbyteWorkspace(AirbyteWorkspace):
    """``AirbyteWorkspace`` whose materializations also record the sync job and its counts."""

    def _fetch_job_info(self, job_id: int) -> Mapping[str, Any]:
        """Best effort: the config API's ``JobInfoRead`` (``POST /jobs/get``), {} on error."""
        client = self.get_client()
        try:
            # Private helper of the pinned dagster-airbyte: it carries auth and retries.
            return client._single_request(
                method="POST",
                url=f"{client.configuration_api_base_url}/jobs/get",
                data={"id": job_id},
            )
        except Failure as exc:
            client._log.warning(f"No job info for Airbyte job {job_id}: {exc}")
            return {}

    def _fetch_stream_stats(self, job_id: int) -> dict[str, Mapping[str, Any]]:
        """Best effort: per-stream record counts of the job."""
        return _stream_stats(self._fetch_job_info(job_id))

    def _failure_reason(self, failure: Failure) -> str:
        """`` (<Airbyte's failure messages>)`` for a failed job named in ``failure``, or ""."""
        found = _JOB_ID.search(failure.description or "")
        if found is None:
            return ""
        messages = _failure_messages(self._fetch_job_info(int(found.group(1))))
        return f" ({'; '.join(messages)})" if messages else ""

    def sync_and_poll(
        self, context: AssetExecutionContext
    ) -> Iterator[MaterializeResult | AssetMaterialization]:
        """Run one sync of the asset's connection, wait for it, and materialize its streams."""
        assets_def = context.assets_def
        translator = get_translator_from_airbyte_assets(assets_def)
        connection_meta = next(AirbyteMetadataSet.extract(s.metadata) for s in assets_def.specs)
        connection_id = str(connection_meta.connection_id)
        connection_name = str(connection_meta.connection_name)

        try:
            output = self.get_client().sync_and_poll(connection_id=connection_id)
        except Failure as exc:
            raise Failure(
                description=(
                    f"Airbyte sync of connection {connection_name!r} ({connection_id}) "
                    f"failed: {exc.description}{self._failure_reason(exc)}"
                ),
                metadata={
                    "airbyte_connection_id": connection_id,
                    "airbyte_connection_name": connection_name,
                },
                # A job the server ran and marked failed is final (Airbyte retried its
                # attempts); only a failure to reach the server is worth a step retry.
                allow_retries=_JOB_ID.search(exc.description or "") is None,
            ) from exc

        job_metadata = _job_metadata(output.job_details)
        stream_stats = self._fetch_stream_stats(int(output.job_details["jobId"]))
        connection = AirbyteConnection.from_connection_details(
            connection_details=output.connection_details
        )
        for stream in connection.streams.values():
            if not stream.selected:
                continue
            spec = translator.get_asset_spec(
                props=AirbyteConnectionTableProps(
                    table_name=get_airbyte_connection_table_name(
                        stream_prefix=connection.stream_prefix, stream_name=stream.name
                    ),
                    stream_prefix=connection.stream_prefix,
                    stream_name=stream.name,
                    json_schema=stream.json_schema,
                    connection_id=connection.id,
                    connection_name=connection.name,
                    destination_type=None,
                    database=None,
                    schema=None,
                )
            )
            metadata: dict[str, Any] = {**spec.metadata, **job_metadata}
            stats = stream_stats.get(stream.name, {})
            for source, target in (
                ("recordsEmitted", "airbyte_records_emitted"),
                ("recordsCommitted", "airbyte_records_committed"),
            ):
                if stats.get(source) is not None:
                    metadata[target] = MetadataValue.int(int(stats[source]))
            # Same key as the embedded assets: the stream's record count.
            records = stats.get("recordsCommitted", stats.get("recordsEmitted"))
            if records is not None:
                metadata["records"] = MetadataValue.int(int(records))
            if spec.key in context.selected_asset_keys:
                yield MaterializeResult(asset_key=spec.key, metadata=metadata)
            else:
                context.log.warning(
                    f"Airbyte synced {spec.key.to_user_string()}, which was not selected."
                )
                yield AssetMaterialization(asset_key=spec.key, metadata=metadata)


def configuration_api_url(settings: Settings) -> str:
    """The config API URL: explicit, or derived from the public API URL."""
    if settings.airbyte_configuration_api_base_url:
        return settings.airbyte_configuration_api_base_url.rstrip("/")
    rest = settings.airbyte_rest_api_base_url.rstrip("/")
    if rest.endswith(PUBLIC_API_SUFFIX):
        return rest[: -len(PUBLIC_API_SUFFIX)] + CONFIG_API_SUFFIX
    raise ValueError(
        "AIRBYTE_CONFIGURATION_API_BASE_URL is not set and cannot be derived from "
        f"AIRBYTE_REST_API_BASE_URL={rest!r} (expected it to end with {PUBLIC_API_SUFFIX})."
    )


def build_airbyte_workspace(
    settings: Settings,
    *,
    poll_interval: float | None = None,
    poll_timeout: float | None = None,
    max_items_per_page: int | None = None,
) -> AirbyteWorkspace:
    """The Airbyte workspace resource for the server configured in ``settings``."""
    if not settings.airbyte_server_mode:
        raise ValueError("Airbyte server mode is off: set AIRBYTE_REST_API_BASE_URL.")
    if not settings.airbyte_workspace_id:
        raise ValueError("AIRBYTE_WORKSPACE_ID is required in Airbyte server mode.")
    if bool(settings.airbyte_client_id) != bool(settings.airbyte_client_secret.get_secret_value()):
        raise ValueError("Set both AIRBYTE_CLIENT_ID and AIRBYTE_CLIENT_SECRET, or neither.")
    options: dict[str, Any] = {"poll_interval": settings.airbyte_poll_interval_s}
    if poll_interval is not None:
        options["poll_interval"] = poll_interval
    if poll_timeout is not None:
        options["poll_timeout"] = poll_timeout
    if max_items_per_page is not None:
        options["max_items_per_page"] = max_items_per_page
    return VoiceOpsAirbyteWorkspace(
        rest_api_base_url=settings.airbyte_rest_api_base_url.rstrip("/"),
        configuration_api_base_url=configuration_api_url(settings),
        workspace_id=settings.airbyte_workspace_id,
        client_id=settings.airbyte_client_id or None,
        client_secret=settings.airbyte_client_secret.get_secret_value() or None,
        **options,
    )


def is_lake_connection(connection: AirbyteConnection) -> bool:
    """Whether the connection's streams land on the lake (its source has a connection YAML)."""
    from ingestion.airbyte.lake_destination import LAKE_SOURCES

    return source_name_for_connection(connection.name) in LAKE_SOURCES
