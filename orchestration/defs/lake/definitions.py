"""Lake stage: the repository asset, its integrity checks, ``lake_job`` and the main sensor."""

from dagster import Definitions

from core.settings import Settings
from orchestration.defs.lake.assets import lake_asset_checks, lake_assets, lake_job
from orchestration.defs.lake.sensors import lake_main_commit_sensor


def defs(settings: Settings) -> Definitions:
    """The lake stage's definitions (the same in every mode)."""
    return Definitions(
        assets=lake_assets,
        asset_checks=lake_asset_checks,
        jobs=[lake_job],
        sensors=[lake_main_commit_sensor],
    )
