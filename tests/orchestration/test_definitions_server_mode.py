"""With AIRBYTE_* set, the code location takes the streams from an Airbyte server (fake here)."""

from __future__ import annotations

from pathlib import Path

from dagster import AssetKey, Definitions

from core.settings import Settings
from orchestration.definitions import build_definitions
from orchestration.defs.ingestion.assets import DAYS, LAKE_SYNC_POOL
from tests.fakes.fake_airbyte import FakeStream, running_fake_airbyte

STREAM_KEYS = {
    AssetKey(["airbyte", "crm", "customers"]),
    AssetKey(["airbyte", "crm", "tickets"]),
    AssetKey(["airbyte", "call_exports", "calls"]),
}


def _keys(defs: Definitions) -> set[AssetKey]:
    return set(defs.resolve_asset_graph().get_all_asset_keys())


def test_embedded_mode_has_the_stream_assets_and_the_day_job(tmp_path: Path) -> None:
    defs = build_definitions(Settings(home=tmp_path))
    assert _keys(defs) >= STREAM_KEYS
    assert defs.resolve_job_def("ingest_day_job")


def test_server_mode_with_fake_airbyte_keeps_the_asset_keys(tmp_path: Path) -> None:
    with running_fake_airbyte() as fake:
        settings = Settings(
            home=tmp_path,
            AIRBYTE_REST_API_BASE_URL=fake.rest_url,
            AIRBYTE_CONFIGURATION_API_BASE_URL=fake.config_url,
            AIRBYTE_WORKSPACE_ID=fake.workspace_id,
            AIRBYTE_CLIENT_ID=fake.client_id or "",
            AIRBYTE_CLIENT_SECRET=fake.client_secret or "",
        )
        defs = build_definitions(settings)
        keys = _keys(defs)
        assert keys >= STREAM_KEYS
        assert {
            AssetKey(["lake", "recordings"]),
            AssetKey(["lake", "contact_center_ingestion"]),
        } <= keys
        assert defs.resolve_job_def("land_day_job")
        Definitions.validate_loadable(defs)


def test_server_mode_lands_lake_connections_daily_and_only_syncs_the_others(
    tmp_path: Path,
) -> None:
    with running_fake_airbyte() as fake:
        fake.add_connection("Zendesk Export!", [FakeStream("Ticket-Events", records=3)])
        defs = build_definitions(
            Settings(
                home=tmp_path,
                AIRBYTE_REST_API_BASE_URL=fake.rest_url,
                AIRBYTE_CONFIGURATION_API_BASE_URL=fake.config_url,
                AIRBYTE_WORKSPACE_ID=fake.workspace_id,
                AIRBYTE_CLIENT_ID=fake.client_id or "",
                AIRBYTE_CLIENT_SECRET=fake.client_secret or "",
            )
        )
        graph = defs.resolve_asset_graph()
        job = defs.resolve_job_def("land_day_job")

        zendesk = AssetKey(["airbyte", "zendesk_export", "ticket_events"])
        for key in STREAM_KEYS:  # sync + land on the day's branch, in land_day_job
            assert graph.get(key).partitions_def == DAYS
            assert graph.get(key).pools == {LAKE_SYNC_POOL}
            assert key in job.asset_layer.selected_asset_keys
        assert graph.get(zendesk).partitions_def is None  # a plain sync, outside the job
        assert zendesk not in job.asset_layer.selected_asset_keys
        assert {k.path[1] for k in STREAM_KEYS} == {"crm", "call_exports"}
