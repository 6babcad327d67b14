"""Experiment assets: the event store copied into the warehouse, then dbt's experiment models.

``experiments/events`` first adopts the spool files of dead API workers on this host (so a
crashed worker's last turns count), then replaces ``experiments_raw.turn_events`` with every
stored event. The dbt models of ``models/experiments`` build from it, in their own group and
their own dbt invocation: the publish audit's build excludes them (``warehouse.dbt_build``).
"""

from collections.abc import Mapping
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    asset,
)
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from core.settings import redact_url, scoped_environ
from experiments.event_log import replay_orphans
from experiments.warehouse_load import RAW_SCHEMA, load_events
from orchestration.defs.warehouse.dbt import VoiceOpsDbtTranslator
from orchestration.resources.lake import LakeResource
from warehouse.dbt_build import EXPERIMENT_MODELS, dbt_env

EXPERIMENTS_GROUP = "experiments"
#: The load step; dbt's source ``experiments_raw.turn_events`` points at it (its ``meta``).
EVENTS_KEY = AssetKey(["experiments", "events"])


@asset(
    key=EVENTS_KEY,
    group_name=EXPERIMENTS_GROUP,
    kinds={"sqlite", "postgres", "duckdb"},
    description="Every experiment event (turns and call outcomes) in the warehouse's "
    f"{RAW_SCHEMA}.turn_events, with the spools of dead API workers replayed first.",
)
def experiment_events(context: AssetExecutionContext, lake: LakeResource) -> MaterializeResult:
    """Replay orphaned spools into the event store, then copy the store into the warehouse."""
    settings = lake.settings()
    replayed = replay_orphans(settings)
    rows = load_events(settings)
    context.log.info(f"loaded {rows} experiment events ({replayed} replayed from spools)")
    return MaterializeResult(
        metadata={
            "events": rows,
            "replayed_from_spools": replayed,
            "event_store": redact_url(settings.events_location),
            "schema": RAW_SCHEMA,
        }
    )


class ExperimentsDbtTranslator(VoiceOpsDbtTranslator):
    """The experiment models: keyed like every dbt model, grouped with the experiments."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str:
        return EXPERIMENTS_GROUP


def build_experiment_dbt_assets(project: DbtProject) -> AssetsDefinition:
    """``experiments_dbt``: the models of ``models/experiments`` and their tests."""

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        select=EXPERIMENT_MODELS,
        dagster_dbt_translator=ExperimentsDbtTranslator(),
    )
    def experiments_dbt(context: AssetExecutionContext, dbt: DbtCliResource, lake: LakeResource):
        """``dbt build`` of the experiment models (tests as asset checks)."""
        # dagster-dbt copies os.environ when it starts dbt: the profile's values only meanwhile
        with scoped_environ(dbt_env(lake.settings())):
            invocation = dbt.cli(["build"], context=context)
        yield from invocation.stream()

    return experiments_dbt
