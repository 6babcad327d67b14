"""Ingestion stage: one simulated day into a new ``ingest-*`` branch of the lake.

Embedded Airbyte connectors by default (``ingest_day_job``); with ``AIRBYTE_REST_API_BASE_URL``
set, the streams come from an Airbyte server instead (``land_day_job``, same asset keys).
"""

from dagster import Definitions, ResourceDefinition

from core.settings import Settings
from orchestration.defs.ingestion.assets import (
    embedded_stream_assets,
    ingest_day_job,
    lake_ingestion_assets,
    land_day_job,
)
from orchestration.defs.ingestion.schedules import build_nightly_ingest_schedule


def defs(settings: Settings, lake: ResourceDefinition | object | None = None) -> Definitions:
    """The ingestion stage for the configured mode; ``lake`` is the code location's lake
    resource (server mode's definitions carry it with the Airbyte workspace)."""
    if settings.airbyte_server_mode:
        from orchestration.defs.ingestion.airbyte_server import build_server_definitions

        server = build_server_definitions(settings, lake=lake)
        return Definitions.merge(
            server,
            Definitions(
                assets=lake_ingestion_assets,
                jobs=[land_day_job],
                schedules=[build_nightly_ingest_schedule(land_day_job)],
            ),
        )
    return Definitions(
        assets=[*embedded_stream_assets, *lake_ingestion_assets],
        jobs=[ingest_day_job],
        schedules=[build_nightly_ingest_schedule(ingest_day_job)],
    )
