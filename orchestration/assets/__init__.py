"""Dagster assets, grouped by stage; each module exports its assets, checks and jobs."""

from orchestration.assets.ingestion import (
    INGESTION_GROUP,
    embedded_stream_assets,
    ingest_day_job,
    ingestion_assets,
    lake_ingestion_assets,
    land_day_job,
)
from orchestration.assets.lake import (
    LAKE_GROUP,
    lake_asset_checks,
    lake_assets,
    lake_fsck,
    lake_job,
    lake_repository,
)

__all__ = [
    "INGESTION_GROUP",
    "LAKE_GROUP",
    "embedded_stream_assets",
    "ingest_day_job",
    "ingestion_assets",
    "lake_asset_checks",
    "lake_assets",
    "lake_fsck",
    "lake_ingestion_assets",
    "lake_job",
    "lake_repository",
    "land_day_job",
]
