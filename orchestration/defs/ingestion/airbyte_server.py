"""Ingestion assets on an Airbyte server: what ``ingestion.airbyte.server`` describes, as Dagster
definitions (the code location adds them when ``AIRBYTE_REST_API_BASE_URL`` is set).
"""

from collections.abc import Callable

from dagster import AssetsDefinition, AssetSpec, ConfigurableResource, Definitions
from dagster_airbyte import AirbyteWorkspace, build_airbyte_assets_definitions
from dagster_airbyte.translator import AirbyteConnection, AirbyteMetadataSet

from core.settings import Settings
from ingestion.airbyte.server import (
    AIRBYTE_RESOURCE_KEY,
    LAKE_RESOURCE_KEY,
    VoiceOpsAirbyteTranslator,
    build_airbyte_workspace,
    is_lake_connection,
    source_name_for_connection,
)
from orchestration.defs.ingestion.assets import server_lake_assets
from orchestration.resources.lake import LakeResource


def build_server_stream_assets(
    settings: Settings,
    workspace: AirbyteWorkspace | None = None,
    connection_selector_fn: Callable[[AirbyteConnection], bool] | None = None,
) -> list[AssetsDefinition]:
    """One sync-only multi-asset per Airbyte connection (all, or those the selector keeps);
    needs the workspace as resource ``airbyte``.

    Loading them calls the server (workspace, connections, their details and destinations).
    """
    workspace = workspace or build_airbyte_workspace(settings)
    return list(
        build_airbyte_assets_definitions(
            workspace=workspace,
            dagster_airbyte_translator=VoiceOpsAirbyteTranslator(),
            connection_selector_fn=connection_selector_fn,
        )
    )


def build_lake_stream_assets(
    settings: Settings, workspace: AirbyteWorkspace | None = None
) -> list[AssetsDefinition]:
    """One daily-partitioned sync-and-land multi-asset per lake connection (needs the
    resources ``airbyte`` and ``lake``)."""
    workspace = workspace or build_airbyte_workspace(settings)
    specs_by_connection: dict[tuple[str, str], list[AssetSpec]] = {}
    for spec in workspace.load_asset_specs(
        dagster_airbyte_translator=VoiceOpsAirbyteTranslator(),
        connection_selector_fn=is_lake_connection,
    ):
        meta = AirbyteMetadataSet.extract(spec.metadata)
        key = (str(meta.connection_id), str(meta.connection_name))
        specs_by_connection.setdefault(key, []).append(spec)
    return [
        server_lake_assets(
            connection_id, connection_name, source_name_for_connection(connection_name), specs
        )
        for (connection_id, connection_name), specs in specs_by_connection.items()
    ]


def build_server_definitions(
    settings: Settings,
    workspace: AirbyteWorkspace | None = None,
    lake: ConfigurableResource | None = None,
) -> Definitions:
    """The server ingestion assets (lake connections land on the lake, others only sync)
    with the resources they need: ``airbyte`` and ``lake`` (pass the code location's own
    ``lake`` resource, so that merged definitions share one)."""
    workspace = workspace or build_airbyte_workspace(settings)
    return Definitions(
        assets=[
            *build_lake_stream_assets(settings, workspace),
            *build_server_stream_assets(
                settings, workspace, lambda connection: not is_lake_connection(connection)
            ),
        ],
        resources={AIRBYTE_RESOURCE_KEY: workspace, LAKE_RESOURCE_KEY: lake or LakeResource()},
    )
