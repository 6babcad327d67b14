"""Dagster assets, grouped by stage; each module exports its assets, checks and jobs."""

from orchestration.assets.lake import (
    LAKE_GROUP,
    lake_asset_checks,
    lake_assets,
    lake_fsck,
    lake_job,
    lake_repository,
)

__all__ = [
    "LAKE_GROUP",
    "lake_asset_checks",
    "lake_assets",
    "lake_fsck",
    "lake_job",
    "lake_repository",
]
