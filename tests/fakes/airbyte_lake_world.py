"""Airbyte server mode against fakes: simulated sources, the CRM API, a fake Airbyte server and
a fake lakeFS S3 gateway over the local lake (tests only: Airbyte and lakeFS cannot run here).

:func:`running_lake_world` sets the environment the code location reads (``AIRBYTE_*``,
``VOICEOPS_AIRBYTE_LAKE_*``), gives the fake Airbyte's sources readers over the simulator's
data (``fake_sources``), and runs the one-time setup (``ingestion.airbyte.lake_setup``), so
the server's ``voiceops-crm`` and ``voiceops-call-exports`` connections write to S3
destinations at the gateway.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.settings import Settings, get_settings
from ingestion.airbyte.lake_setup import LakeConnection, setup_lake_connections
from ingestion.airbyte.server import build_airbyte_workspace
from ingestion.airbyte.server_api import AirbyteServerApi
from ingestion.simulator import layout
from ingestion.simulator.crm_service import running_crm_service
from tests.fakes.fake_airbyte import FakeAirbyte, running_fake_airbyte
from tests.fakes.fake_s3_gateway import FakeS3Gateway, running_fake_s3_gateway
from tests.fakes.fake_sources import (
    CALL_PROPERTIES,
    CUSTOMER_PROPERTIES,
    TICKET_PROPERTIES,
    crm_reader,
    export_reader,
)
from versioning.lake import Lake, open_lake
from versioning.lake.repositories import ensure_repository

CRM = "voiceops-crm"
CALL_EXPORTS = "voiceops-call-exports"


@dataclass
class LakeWorld:
    """The running fakes and the settings that point at them."""

    home: Path
    lake: Lake
    airbyte: FakeAirbyte
    gateway: FakeS3Gateway
    crm_url: str
    connections: list[LakeConnection]

    @property
    def settings(self) -> Settings:
        return Settings()  # from the environment the world set

    @property
    def api(self) -> AirbyteServerApi:
        return AirbyteServerApi(build_airbyte_workspace(self.settings).get_client())

    def serve_exports_of(self, day: int) -> Path:
        """Make the call-exports source read day ``day``'s export (as its file config would)."""
        export = layout.calls_jsonl(self.settings.sources_root, day)
        self.airbyte.source(CALL_EXPORTS).reader = export_reader(export)
        return export


def _environment(home: Path, airbyte: FakeAirbyte, gateway: FakeS3Gateway) -> dict[str, str]:
    return {
        "VOICEOPS_HOME": str(home),
        "VOICEOPS_LAKE_FSYNC": "false",
        "AIRBYTE_REST_API_BASE_URL": airbyte.rest_url,
        "AIRBYTE_CONFIGURATION_API_BASE_URL": airbyte.config_url,
        "AIRBYTE_WORKSPACE_ID": airbyte.workspace_id,
        "AIRBYTE_CLIENT_ID": airbyte.client_id or "",
        "AIRBYTE_CLIENT_SECRET": airbyte.client_secret or "",
        "VOICEOPS_AIRBYTE_POLL_INTERVAL_S": "0.01",
        "VOICEOPS_AIRBYTE_LAKE_S3_ENDPOINT": gateway.endpoint,
        "VOICEOPS_AIRBYTE_LAKE_ACCESS_KEY_ID": gateway.access_key_id,
        "VOICEOPS_AIRBYTE_LAKE_SECRET_ACCESS_KEY": gateway.secret_access_key,
    }


@contextlib.contextmanager
def running_lake_world(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LakeWorld]:
    """The fakes over ``home`` (write the simulated days under ``home/sources`` first)."""
    monkeypatch.setenv("VOICEOPS_HOME", str(home))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("VOICEOPS_LAKE_BACKEND", raising=False)
    monkeypatch.setenv("VOICEOPS_LAKE_FSYNC", "false")
    get_settings.cache_clear()
    lake = open_lake(Settings())
    ensure_repository(lake, Settings().lake_repository)  # main protected, as the platform has it
    crm_db = layout.crm_database(Settings().sources_root)
    with (
        running_crm_service(crm_db) as crm_url,
        running_fake_s3_gateway(lake) as gateway,
        running_fake_airbyte(polls_to_finish=1) as airbyte,
    ):
        for name, value in _environment(home, airbyte, gateway).items():
            monkeypatch.setenv(name, value)
        crm = airbyte.source(CRM)
        properties = {"customers": CUSTOMER_PROPERTIES, "tickets": TICKET_PROPERTIES}
        for stream in crm.streams:
            stream.properties = dict(properties[stream.name])
        crm.reader = crm_reader(crm_url)
        airbyte.source(CALL_EXPORTS).streams[0].properties = dict(CALL_PROPERTIES)
        world = LakeWorld(home, lake, airbyte, gateway, crm_url, [])
        world.connections = setup_lake_connections(world.api, world.settings, replace=True)
        try:
            yield world
        finally:
            get_settings.cache_clear()
