"""Experiments stage: the serving events loaded into the warehouse and modelled by dbt, and an
analysis asset per experiment spec (a canary's also advances it)."""

from dagster import AssetSelection, Definitions, define_asset_job

from core.settings import Settings
from orchestration.defs.experiments.analysis import experiment_assets
from orchestration.defs.experiments.assets import (
    EVENTS_KEY,
    build_experiment_dbt_assets,
    experiment_events,
)
from orchestration.resources.dbt import prepared_dbt_project


def defs(settings: Settings) -> Definitions:
    """The experiments stage's definitions (the dbt project is parsed on first use)."""
    dbt_assets = build_experiment_dbt_assets(prepared_dbt_project())
    experiment_events_job = define_asset_job(
        "experiment_events_job",
        selection=AssetSelection.assets(EVENTS_KEY) | AssetSelection.assets(dbt_assets),
        description="Copy the experiment event store into the warehouse and build the "
        "experiment models (never part of the publish audit).",
    )
    return Definitions(
        assets=[experiment_events, dbt_assets, *experiment_assets(settings)],
        jobs=[experiment_events_job],
    )
