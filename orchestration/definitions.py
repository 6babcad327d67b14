"""The VoiceOps Dagster code location: assets, checks, jobs, sensors and resources.

Ingestion runs embedded Airbyte connectors by default; with ``AIRBYTE_REST_API_BASE_URL``
set, the streams come from an Airbyte server instead (same asset keys).
"""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from core.settings import Settings
from orchestration.assets import (
    embedded_stream_assets,
    ingest_day_job,
    lake_asset_checks,
    lake_assets,
    lake_ingestion_assets,
    lake_job,
    land_day_job,
)
from orchestration.assets.registry import register_models_job, registry_assets
from orchestration.assets.training import train_models_job, training_assets, training_checks
from orchestration.assets.warehouse import audit_publish_job, warehouse_assets
from orchestration.resources import build_resources
from orchestration.sensors import lake_main_commit_sensor


def build_definitions(settings: Settings | None = None) -> Definitions:
    """The code location for the given settings (read from the environment by default)."""
    settings = settings or Settings()
    base = Definitions(
        assets=[
            *lake_assets,
            *lake_ingestion_assets,
            *warehouse_assets,
            *training_assets,
            *registry_assets,
        ],
        asset_checks=[*lake_asset_checks, *training_checks],
        jobs=[lake_job, audit_publish_job, train_models_job, register_models_job],
        sensors=[lake_main_commit_sensor],
        resources=build_resources(),
        # Multiprocess execution re-imports the code location per step (~12 s each here).
        executor=in_process_executor,
    )
    if settings.airbyte_server_mode:
        from ingestion.airbyte.server import build_server_definitions

        server = build_server_definitions(settings, lake=base.resources["lake"])
        return Definitions.merge(base, server, Definitions(jobs=[land_day_job]))
    return Definitions.merge(
        base, Definitions(assets=embedded_stream_assets, jobs=[ingest_day_job])
    )


defs = build_definitions()
