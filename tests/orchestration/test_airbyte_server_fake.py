"""Airbyte server mode against a fake Airbyte server (``tests/fakes/fake_airbyte.py``)."""

from collections.abc import Iterator

import pytest
from dagster import AssetKey, DagsterEventType, materialize
from pydantic import SecretStr

from core.settings import Settings
from ingestion.airbyte.server import INGESTION_GROUP, build_airbyte_workspace, server_asset_key
from orchestration.defs.ingestion.airbyte_server import (
    build_server_definitions,
    build_server_stream_assets,
)
from tests.fakes.fake_airbyte import FakeAirbyte, FakeStream, running_fake_airbyte

CUSTOMERS = AssetKey(["airbyte", "crm", "customers"])
TICKETS = AssetKey(["airbyte", "crm", "tickets"])
CALLS = AssetKey(["airbyte", "call_exports", "calls"])
EXPECTED_KEYS = {CUSTOMERS, TICKETS, CALLS}
AIRBYTE_ENV = (
    "AIRBYTE_REST_API_BASE_URL",
    "AIRBYTE_CONFIGURATION_API_BASE_URL",
    "AIRBYTE_WORKSPACE_ID",
    "AIRBYTE_CLIENT_ID",
    "AIRBYTE_CLIENT_SECRET",
)


@pytest.fixture
def fake() -> Iterator[FakeAirbyte]:
    with running_fake_airbyte() as server:
        yield server


@pytest.fixture(autouse=True)
def _no_ambient_airbyte_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in AIRBYTE_ENV:
        monkeypatch.delenv(name, raising=False)


def fake_settings(fake: FakeAirbyte, tmp_path) -> Settings:
    return Settings(
        home=tmp_path,
        AIRBYTE_REST_API_BASE_URL=fake.rest_url,
        AIRBYTE_CONFIGURATION_API_BASE_URL=fake.config_url,
        AIRBYTE_WORKSPACE_ID=fake.workspace_id,
        AIRBYTE_CLIENT_ID=fake.client_id or "",
        AIRBYTE_CLIENT_SECRET=fake.client_secret or "",
    )


def specs_by_key(assets) -> dict:
    return {spec.key: spec for a in assets for spec in a.specs}


def test_fake_workspace_loads_connections_as_embedded_mode_keys(fake, tmp_path) -> None:
    settings = fake_settings(fake, tmp_path)
    assert settings.airbyte_server_mode
    workspace = build_airbyte_workspace(settings, max_items_per_page=1)

    assets = build_server_stream_assets(settings, workspace)

    specs = specs_by_key(assets)
    assert set(specs) == EXPECTED_KEYS
    for spec in specs.values():
        assert spec.group_name == INGESTION_GROUP
        assert spec.kinds == {"airbyte"}
    assert specs[CUSTOMERS].metadata["dagster-airbyte/connection_name"] == "voiceops-crm"
    assert specs[CALLS].metadata["dagster/table_name"] == "voiceops.raw.calls"
    assert {c.name for c in specs[TICKETS].metadata["dagster/column_schema"].columns} == {
        "customer_id",
        "ticket_id",
    }
    # one multi-asset per connection
    assert sorted(len(a.keys) for a in assets) == [1, 2]
    # token first, then the workspace; connections paginated one per page
    assert fake.calls[0] == "POST /applications/token"
    assert fake.calls[1] == f"GET /workspaces/{fake.workspace_id}"
    assert fake.calls.count("GET /connections") == 2
    assert fake.calls.count("POST /connections/get") == 2
    assert f"GET /destinations/{fake.destination_id}" in fake.calls
    authorized = [r for r in fake.requests if r.call != "POST /applications/token"]
    assert all((r.authorization or "").startswith("Bearer ") for r in authorized)
    assert all(
        r.query.get("workspaceIds") == fake.workspace_id
        for r in fake.requests
        if r.call == "GET /connections"
    )


def test_fake_translator_maps_names_and_keeps_unknown_connections(fake, tmp_path) -> None:
    fake.add_connection("Zendesk Export!", [FakeStream("Ticket-Events", records=3)], prefix="zd_")
    fake.connection("voiceops-call-exports").streams.append(
        FakeStream("drafts", records=1, selected=False)
    )
    settings = fake_settings(fake, tmp_path)

    keys = set(specs_by_key(build_server_stream_assets(settings)))

    assert keys == {*EXPECTED_KEYS, AssetKey(["airbyte", "zendesk_export", "ticket_events"])}
    assert server_asset_key("crm", "customers") == CUSTOMERS
    assert server_asset_key("VoiceOps Call-Exports", "calls") == CALLS


def test_fake_materialize_syncs_both_connections_and_records_jobs(fake, tmp_path) -> None:
    settings = fake_settings(fake, tmp_path)
    workspace = build_airbyte_workspace(settings, poll_interval=0.01)
    assets = build_server_stream_assets(settings, workspace)

    result = materialize(assets, resources={"airbyte": workspace})

    assert result.success
    crm_jobs = fake.jobs_for("voiceops-crm")
    call_jobs = fake.jobs_for("voiceops-call-exports")
    assert [j.status for j in crm_jobs] == ["succeeded"]
    assert [j.status for j in call_jobs] == ["succeeded"]
    # pending → running (poll 1) → succeeded (poll 2)
    assert all(j.polls == 2 for j in (*crm_jobs, *call_jobs))
    assert fake.calls.count("POST /jobs") == 2
    assert fake.calls.count("GET /jobs") == 2  # "is a sync already running?" per connection
    assert "DELETE /jobs/1" not in fake.calls and "DELETE /jobs/2" not in fake.calls
    starts = [r for r in fake.requests if r.call == "POST /jobs"]
    assert {r.body["connectionId"] for r in starts} == {
        fake.connection("voiceops-crm").connection_id,
        fake.connection("voiceops-call-exports").connection_id,
    }
    assert all(r.body["jobType"] == "sync" for r in starts)

    materializations = {
        e.materialization.asset_key: e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert set(materializations) == EXPECTED_KEYS
    customers, tickets, calls = (materializations[k] for k in (CUSTOMERS, TICKETS, CALLS))
    assert customers["airbyte_job_id"].value == crm_jobs[0].job_id
    assert tickets["airbyte_job_id"].value == crm_jobs[0].job_id
    assert calls["airbyte_job_id"].value == call_jobs[0].job_id
    assert customers["airbyte_job_status"].value == "succeeded"
    assert customers["airbyte_rows_synced"].value == 120 + 345
    assert customers["airbyte_records_emitted"].value == 120
    assert tickets["airbyte_records_committed"].value == 345
    assert calls["airbyte_rows_synced"].value == 42
    assert calls["airbyte_records_emitted"].value == 42
    assert calls["records"].value == 42
    assert tickets["records"].value == 345
    assert calls["airbyte_bytes_synced"].value == 4200


def test_fake_failed_job_fails_the_materialization_clearly(fake, tmp_path) -> None:
    fake.fail_syncs("voiceops-call-exports")
    settings = fake_settings(fake, tmp_path)
    workspace = build_airbyte_workspace(settings, poll_interval=0.01)
    assets = build_server_stream_assets(settings, workspace)

    result = materialize(assets, resources={"airbyte": workspace}, raise_on_error=False)

    assert not result.success
    failures = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert len(failures) == 1
    message = failures[0].event_specific_data.error.message
    (job,) = fake.jobs_for("voiceops-call-exports")
    assert job.status == "failed"
    connection_id = fake.connection("voiceops-call-exports").connection_id
    assert f"Airbyte sync of connection 'voiceops-call-exports' ({connection_id}) failed" in message
    assert f"Job failed: {job.job_id}" in message
    # the other connection still synced and materialized
    materialized = {e.materialization.asset_key for e in result.get_asset_materialization_events()}
    assert materialized == {CUSTOMERS, TICKETS}


def test_fake_job_still_running_at_timeout_is_cancelled(tmp_path) -> None:
    with running_fake_airbyte(polls_to_finish=10**6) as fake:
        settings = fake_settings(fake, tmp_path)
        workspace = build_airbyte_workspace(settings, poll_interval=0.01, poll_timeout=0.05)
        assets = build_server_stream_assets(settings, workspace)
        crm = next(a for a in assets if CUSTOMERS in a.keys)

        result = materialize([crm], resources={"airbyte": workspace}, raise_on_error=False)

        assert not result.success
        (job,) = fake.jobs_for("voiceops-crm")
        assert job.status == "cancelled"
        assert f"DELETE /jobs/{job.job_id}" in fake.calls
        assert fake.jobs_for("voiceops-call-exports") == []


def test_fake_settings_from_airbyte_env_build_the_workspace(
    fake, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path))
    monkeypatch.setenv("AIRBYTE_REST_API_BASE_URL", fake.rest_url)
    monkeypatch.setenv("AIRBYTE_WORKSPACE_ID", fake.workspace_id)
    monkeypatch.setenv("AIRBYTE_CLIENT_ID", fake.client_id or "")
    monkeypatch.setenv("AIRBYTE_CLIENT_SECRET", fake.client_secret or "")
    settings = Settings()  # no AIRBYTE_CONFIGURATION_API_BASE_URL: derived from the REST URL

    workspace = build_airbyte_workspace(settings)
    defs = build_server_definitions(settings, workspace)

    assert workspace.rest_api_base_url == fake.rest_url
    assert workspace.configuration_api_base_url == fake.config_url
    assert workspace.workspace_id == fake.workspace_id
    assert workspace.client_id == fake.client_id
    assert set(defs.resolve_all_asset_keys()) == EXPECTED_KEYS
    token_calls = [r for r in fake.requests if r.call == "POST /applications/token"]
    assert token_calls and token_calls[0].body == {
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
    }


def test_fake_workspace_without_credentials_sends_no_token(tmp_path) -> None:
    with running_fake_airbyte(client_id=None, client_secret=None) as fake:
        settings = fake_settings(fake, tmp_path)
        keys = set(specs_by_key(build_server_stream_assets(settings)))
        assert keys == EXPECTED_KEYS
        assert "POST /applications/token" not in fake.calls
        assert all(r.authorization is None for r in fake.requests)


def test_fake_wrong_credentials_are_rejected(fake, tmp_path) -> None:
    settings = fake_settings(fake, tmp_path).model_copy(
        update={"airbyte_client_secret": SecretStr("wrong")}
    )
    with pytest.raises(Exception, match="applications/token"):
        build_server_stream_assets(settings)
    assert fake.tokens == set()


def test_server_mode_off_is_refused(tmp_path) -> None:
    settings = Settings(home=tmp_path)
    assert not settings.airbyte_server_mode
    with pytest.raises(ValueError, match="AIRBYTE_REST_API_BASE_URL"):
        build_airbyte_workspace(settings)
