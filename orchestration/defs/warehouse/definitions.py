"""Warehouse stage: load an ingest branch, dbt build + test it, publish it if every check passed."""

from dagster import AssetSelection, Definitions, define_asset_job

from core.settings import Settings
from orchestration.defs.ingestion.assets import ingest_day_job, land_day_job
from orchestration.defs.warehouse.assets import PUBLISHED_KEY, RAW_KEYS, warehouse_assets
from orchestration.defs.warehouse.dbt import build_dbt_assets
from orchestration.defs.warehouse.sensors import build_audit_after_ingest_sensor
from orchestration.resources.dbt import prepared_dbt_project


def defs(settings: Settings) -> Definitions:
    """The warehouse stage (parses the dbt project on first use)."""
    dbt_assets = build_dbt_assets(prepared_dbt_project())
    audit_publish_job = define_asset_job(
        "audit_publish_job",
        selection=AssetSelection.assets(*RAW_KEYS.values(), PUBLISHED_KEY)
        | AssetSelection.assets(dbt_assets),
        description="Load the newest unpublished ingest branch, dbt build + test it, publish "
        "if clean.",
    )
    ingest_job = land_day_job if settings.airbyte_server_mode else ingest_day_job
    return Definitions(
        assets=[*warehouse_assets, dbt_assets],
        jobs=[audit_publish_job],
        sensors=[build_audit_after_ingest_sensor([ingest_job], audit_publish_job)],
    )
