"""The VoiceOps Dagster code location: assets, checks, jobs, sensors and resources."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from orchestration.assets import (
    ingest_day_job,
    ingestion_assets,
    lake_asset_checks,
    lake_assets,
    lake_job,
)
from orchestration.resources import build_resources
from orchestration.sensors import lake_main_commit_sensor

defs = Definitions(
    assets=[*lake_assets, *ingestion_assets],
    asset_checks=[*lake_asset_checks],
    jobs=[lake_job, ingest_day_job],
    sensors=[lake_main_commit_sensor],
    resources=build_resources(),
    # Multiprocess execution re-imports the code location per step (~12 s each here).
    executor=in_process_executor,
)
