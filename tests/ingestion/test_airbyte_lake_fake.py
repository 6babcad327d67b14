"""The lakeFS + Airbyte pattern piece by piece, against fakes (Airbyte and lakeFS cannot run
here): the S3 destination configuration, the fake lakeFS S3 gateway, reading what Airbyte
staged on a branch, and the one-time setup of destinations and connections.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from airbyte_api import models as api_models
from botocore.exceptions import ClientError

from core.settings import Settings
from ingestion.airbyte.lake_destination import (
    LakeDestinationError,
    connection_settings,
    s3_destination_configuration,
)
from ingestion.airbyte.lake_setup import LakeSetupError, setup_lake_connections
from ingestion.airbyte.lake_sync import check_stream, land_staged_stream, point_connection_at_branch
from ingestion.airbyte.server import build_airbyte_workspace
from ingestion.airbyte.server_api import AirbyteServerApi
from ingestion.airbyte.staged import StagingMismatch, clear_staging, read_staged_stream
from ingestion.lake_landing import ensure_ingest_branch
from tests.factories import sealer_in
from tests.fakes.fake_airbyte import FakeAirbyte, running_fake_airbyte
from tests.fakes.fake_s3_destination import s3_client
from tests.fakes.fake_s3_gateway import FakeS3Gateway, running_fake_s3_gateway
from versioning.lake.local import LocalLake

REPO = "contact-center"
BRANCH = "ingest-20260101-test"
DAY = date(2026, 1, 1)


def lake_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "airbyte_lake_s3_endpoint": "http://lakefs.internal:8000/",
        "airbyte_lake_access_key_id": "AKIAEXAMPLE",
        "airbyte_lake_secret_access_key": "not-a-real-secret",
    }
    return Settings(**(values | overrides))  # type: ignore[arg-type]


@pytest.fixture
def lake(tmp_path: Path) -> LocalLake:
    lake = LocalLake(tmp_path / "lake", fsync=False)
    ensure_ingest_branch(lake, REPO, BRANCH)
    return lake


@pytest.fixture
def gateway(lake: LocalLake) -> Iterator[FakeS3Gateway]:
    with running_fake_s3_gateway(lake) as server:
        yield server


def gateway_client(gateway: FakeS3Gateway, key_id: str | None = None):
    return s3_client(
        {
            "s3_endpoint": gateway.endpoint,
            "access_key_id": key_id or gateway.access_key_id,
            "secret_access_key": gateway.secret_access_key,
        }
    )


# -- the destination configuration ---------------------------------------------------------


def test_s3_destination_configuration_is_the_public_api_s3_model() -> None:
    config = s3_destination_configuration(lake_settings(), REPO, BRANCH)

    assert config["s3_bucket_name"] == REPO
    assert config["s3_bucket_path"] == f"{BRANCH}/_airbyte"  # lakeFS: the branch comes first
    assert config["s3_endpoint"] == "http://lakefs.internal:8000"
    assert config["format"]["flattening"] == "Root level flattening"
    # every key is a field of the Airbyte API's DestinationS3 model (airbyte-api 0.53.0)
    parsed = api_models.DestinationS3.from_dict(config)
    assert set(json.loads(parsed.to_json())) == set(config)
    assert parsed.format.format_type.value == "JSONL"
    assert parsed.s3_bucket_region.value == "us-east-1"


def test_s3_destination_configuration_names_what_is_missing() -> None:
    settings = lake_settings(airbyte_lake_s3_endpoint="", airbyte_lake_secret_access_key="")
    with pytest.raises(LakeDestinationError) as raised:
        s3_destination_configuration(settings, REPO, BRANCH)
    assert "VOICEOPS_AIRBYTE_LAKE_S3_ENDPOINT" in str(raised.value)
    assert "VOICEOPS_AIRBYTE_LAKE_SECRET_ACCESS_KEY" in str(raised.value)
    assert "ACCESS_KEY_ID" not in str(raised.value).replace("SECRET_ACCESS_KEY", "")


def test_lakectl_credentials_are_the_default_lake_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKECTL_CREDENTIALS_ACCESS_KEY_ID", "AKIALAKECTL")
    monkeypatch.setenv("LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY", "lakectl-secret")
    settings = Settings()
    assert settings.airbyte_lake_access_key_id == "AKIALAKECTL"
    assert "lakectl-secret" not in repr(settings)  # a SecretStr
    monkeypatch.setenv("VOICEOPS_AIRBYTE_LAKE_ACCESS_KEY_ID", "AKIAOWN")
    assert Settings().airbyte_lake_access_key_id == "AKIAOWN"


def test_connection_settings_come_from_the_connection_yaml() -> None:
    crm = connection_settings("crm")
    calls = connection_settings("call_exports")

    assert (crm["namespaceDefinition"], crm["namespaceFormat"]) == ("custom_format", "crm")
    assert crm["configurations"]["streams"] == [
        {
            "name": "customers",
            "syncMode": "incremental_append",
            "cursorField": ["updated_at"],
            "primaryKey": [["customer_id"]],
        },
        {
            "name": "tickets",
            "syncMode": "incremental_append",
            "cursorField": ["updated_at"],
            "primaryKey": [["ticket_id"]],
        },
    ]
    assert calls["configurations"]["streams"] == [
        {"name": "calls", "syncMode": "full_refresh_append", "primaryKey": [["call_id"]]}
    ]
    parsed = api_models.ConnectionPatchRequest.from_dict(crm)
    assert parsed.namespace_definition.value == "custom_format"
    assert parsed.schedule.schedule_type.value == "manual"


# -- the fake lakeFS S3 gateway --------------------------------------------------------------


def test_fake_s3_gateway_puts_gets_lists_and_deletes_on_a_branch(
    lake: LocalLake, gateway: FakeS3Gateway
) -> None:
    s3 = gateway_client(gateway)
    key = f"{BRANCH}/_airbyte/crm/customers/2026_01_01_1_0.jsonl"

    s3.put_object(Bucket=REPO, Key=key, Body=b'{"a": 1}\n')

    assert lake.read_bytes(REPO, BRANCH, "_airbyte/crm/customers/2026_01_01_1_0.jsonl") == (
        b'{"a": 1}\n'
    )
    assert [d.path for d in lake.uncommitted(REPO, BRANCH)] == [
        "_airbyte/crm/customers/2026_01_01_1_0.jsonl"
    ]
    assert s3.get_object(Bucket=REPO, Key=key)["Body"].read() == b'{"a": 1}\n'
    assert s3.head_object(Bucket=REPO, Key=key)["ContentLength"] == 9
    listing = s3.list_objects_v2(Bucket=REPO, Prefix=f"{BRANCH}/_airbyte/")
    assert [o["Key"] for o in listing["Contents"]] == [key]
    folders = s3.list_objects_v2(Bucket=REPO, Prefix=f"{BRANCH}/_airbyte/", Delimiter="/")
    assert folders["CommonPrefixes"] == [{"Prefix": f"{BRANCH}/_airbyte/crm/"}]
    s3.delete_object(Bucket=REPO, Key=key)
    assert s3.list_objects_v2(Bucket=REPO, Prefix=f"{BRANCH}/")["KeyCount"] == 0
    assert lake.uncommitted(REPO, BRANCH) == []


def test_fake_s3_gateway_refuses_main_unknown_keys_and_missing_credentials(
    gateway: FakeS3Gateway,
) -> None:
    s3 = gateway_client(gateway)
    with pytest.raises(ClientError, match="AccessDenied"):  # main is protected
        s3.put_object(Bucket=REPO, Key="main/x.jsonl", Body=b"{}")
    with pytest.raises(ClientError, match="NoSuchBucket"):
        s3.put_object(Bucket="no-such-repo", Key=f"{BRANCH}/x", Body=b"{}")
    with pytest.raises(ClientError, match="NoSuchKey"):
        s3.get_object(Bucket=REPO, Key=f"{BRANCH}/missing")
    with pytest.raises(ClientError, match="InvalidAccessKeyId"):
        gateway_client(gateway, key_id="AKIASOMEONEELSE").get_object(Bucket=REPO, Key="main/x")
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as unsigned:
        urllib.request.urlopen(f"{gateway.endpoint}/{REPO}/main/x", timeout=10)
    assert unsigned.value.code == 403 and b"AccessDenied" in unsigned.value.read()


# -- reading what Airbyte staged -------------------------------------------------------------


def stage(lake: LocalLake, stream: str, lines: list[object], name: str = "0.jsonl") -> None:
    data = "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines).encode()
    if name.endswith(".gz"):
        data = gzip.compress(data)
    lake.upload(REPO, BRANCH, f"_airbyte/crm/{stream}/2026_01_01_1_{name}", data)


def meta(sync_id: int = 7, changes: list | None = None) -> dict:
    return {
        "_airbyte_raw_id": "0197604b-ca2e-7e7c-9126-dacc18b68e8e",
        "_airbyte_extracted_at": 1767225600000,
        "_airbyte_meta": {"sync_id": sync_id, "changes": changes or []},
        "_airbyte_generation_id": 0,
    }


def customer(n: int) -> dict:
    return {"customer_id": f"CUST-{n:06d}", "updated_at": "2026-01-01T09:00:00+00:00"}


def test_staged_lines_of_every_layout_are_read_and_nothing_is_dropped(lake: LocalLake) -> None:
    nulled = [{"field": "segment", "change": "NULLED", "reason": "DESTINATION_SERIALIZATION_ERROR"}]
    stage(
        lake,
        "customers",
        [
            meta() | customer(1),  # root-level flattening
            meta() | {"_airbyte_data": customer(2)},  # no flattening
            "",  # blank: no record
            meta(changes=nulled) | customer(3) | {"segment": None},
            '{"truncated": ',
            '"a string"',
        ],
    )
    legacy = {"_airbyte_ab_id": "x", "_airbyte_emitted_at": 1, "_airbyte_data": customer(4)}
    stage(lake, "customers", [legacy], name="1.jsonl.gz")

    staged = read_staged_stream(lake, REPO, BRANCH, "crm", "customers", sync_id=7)

    assert staged.lines == 6 and len(staged.paths) == 2
    assert staged.records == [customer(1), customer(2), customer(4)]
    reasons = [r["reason"] for r in staged.rejects]
    assert reasons[0] == (
        "Airbyte changed the record: segment NULLED (DESTINATION_SERIALIZATION_ERROR)"
    )
    assert staged.rejects[0]["record"]["customer_id"] == "CUST-000003"
    assert reasons[1].startswith("staged line not JSON (_airbyte/crm/customers/")
    assert reasons[2].startswith("staged line is a str, not an object")


def test_lines_of_another_sync_are_refused(lake: LocalLake) -> None:
    stage(lake, "customers", [meta(sync_id=6) | customer(1)])
    with pytest.raises(StagingMismatch, match="job 6, not job 7"):
        read_staged_stream(lake, REPO, BRANCH, "crm", "customers", sync_id=7)


def test_landing_a_staged_stream_checks_counts_validates_and_quarantines(
    lake: LocalLake, tmp_path: Path
) -> None:
    bad = {"customer_id": "", "updated_at": "yesterday"}
    stage(lake, "customers", [meta() | customer(1), meta() | bad])
    common = {
        "run_id": "run-1",
        "day": DAY,
        "source": "crm",
        "stream": "customers",
        "sync_id": 7,
        "connector": "airbyte-server:voiceops-crm",
        "connector_version": "job-7",
        "state": None,
        "sealer": sealer_in(tmp_path),
    }
    with pytest.raises(StagingMismatch, match="committed 3 crm/customers records"):
        land_staged_stream(lake, REPO, BRANCH, records_committed=3, **common)

    landing = land_staged_stream(lake, REPO, BRANCH, records_committed=2, **common)

    assert (landing.records, landing.quarantined) == (1, 1)
    rejects = lake.read_bytes(REPO, BRANCH, landing.quarantine_paths[0]).splitlines()
    assert json.loads(rejects[0])["reason"] == "customer_id: missing or empty"
    lake.upload(REPO, BRANCH, "_airbyte/test_1767225600000", b"check")  # a connection check's
    lake.upload(REPO, BRANCH, "_airbyte/call_exports/calls/0.jsonl", b"")  # another source's
    assert clear_staging(lake, REPO, BRANCH, "crm") == [
        "_airbyte/crm/customers/2026_01_01_1_0.jsonl",
        "_airbyte/test_1767225600000",
    ]
    assert [d.path for d in lake.uncommitted(REPO, BRANCH, "_airbyte/")] == [
        "_airbyte/call_exports/calls/0.jsonl"
    ]


def test_a_stream_without_validation_is_not_landed() -> None:
    with pytest.raises(ValueError, match="refusing to land it unchecked"):
        check_stream("crm", "invoices", [])


# -- setup and pointing at the branch --------------------------------------------------------


@pytest.fixture
def airbyte() -> Iterator[FakeAirbyte]:
    with running_fake_airbyte() as fake:
        yield fake


def server_api(fake: FakeAirbyte) -> AirbyteServerApi:
    settings = Settings(
        AIRBYTE_REST_API_BASE_URL=fake.rest_url,
        AIRBYTE_CONFIGURATION_API_BASE_URL=fake.config_url,
        AIRBYTE_WORKSPACE_ID=fake.workspace_id,
        AIRBYTE_CLIENT_ID=fake.client_id or "",
        AIRBYTE_CLIENT_SECRET=fake.client_secret or "",
    )
    return AirbyteServerApi(build_airbyte_workspace(settings).get_client())


def test_fake_setup_creates_lake_destinations_and_recreates_foreign_connections(
    airbyte: FakeAirbyte,
) -> None:
    api, settings = server_api(airbyte), lake_settings()
    old_crm = airbyte.connection("voiceops-crm").connection_id
    with pytest.raises(LakeSetupError, match="--replace"):  # it writes to Postgres
        setup_lake_connections(api, settings)

    done = setup_lake_connections(api, settings, replace=True)

    assert [x.source for x in done] == ["crm", "call_exports"]
    crm = airbyte.connection("voiceops-crm")
    assert crm.connection_id != old_crm and crm.connection_id == done[0].connection_id
    assert crm.source_id == airbyte.source("voiceops-crm").source_id  # the same source
    destination = airbyte.destination("voiceops-lake-crm")
    assert crm.destination_id == destination.destination_id
    assert destination.destination_type == "s3"
    assert destination.configuration["s3_bucket_path"] == "ingest-unset/_airbyte"
    assert (crm.namespace_definition, crm.namespace_format) == ("custom_format", "crm")
    assert crm.sync_modes == {"customers": "incremental_append", "tickets": "incremental_append"}
    assert done[0].actions == (
        "destination patched",  # created by the refused first attempt
        "connection deleted (it wrote elsewhere)",
        "connection created",
    )
    # secrets are not echoed back by the API
    assert api.get_destination(destination.destination_id)["configuration"][
        "secret_access_key"
    ] == ("**********")

    again = setup_lake_connections(api, settings)  # idempotent: PATCHes, creates nothing

    assert [x.actions for x in again] == [("destination patched", "connection patched")] * 2
    assert [x.connection_id for x in again] == [x.connection_id for x in done]


def test_fake_setup_needs_the_source_on_the_server(airbyte: FakeAirbyte) -> None:
    api = server_api(airbyte)
    for connection in list(airbyte.connections.values()):
        api.delete_connection(connection.connection_id)
    airbyte.sources.clear()
    with pytest.raises(LakeSetupError, match="no source named 'voiceops-crm'"):
        setup_lake_connections(api, lake_settings())


def test_fake_connection_is_pointed_at_the_run_branch_only_through_its_lake_destination(
    airbyte: FakeAirbyte,
) -> None:
    api, settings = server_api(airbyte), lake_settings()
    postgres_bound = airbyte.connection("voiceops-crm").connection_id
    with pytest.raises(LakeDestinationError, match="not to the lake destination"):
        point_connection_at_branch(api, settings, postgres_bound, "crm", REPO, BRANCH)
    assert airbyte.destination("voiceops-warehouse").configuration.get("s3_bucket_path") is None

    (crm, _) = setup_lake_connections(api, settings, replace=True)
    point_connection_at_branch(api, settings, crm.connection_id, "crm", REPO, BRANCH)

    configuration = airbyte.destination("voiceops-lake-crm").configuration
    assert configuration["s3_bucket_path"] == f"{BRANCH}/_airbyte"
    assert configuration["secret_access_key"] == "not-a-real-secret"  # the real one, not masked
    patches = [r for r in airbyte.requests if r.method == "PATCH"]
    assert [r.path.split("/")[1] for r in patches[-2:]] == ["destinations", "connections"]


def test_fake_stream_states_round_trip_as_state_messages(airbyte: FakeAirbyte) -> None:
    api = server_api(airbyte)
    (crm, _) = setup_lake_connections(api, lake_settings(), replace=True)
    assert api.get_stream_states(crm.connection_id) == {}
    message = {
        "type": "STREAM",
        "stream": {
            "stream_descriptor": {"name": "customers"},
            "stream_state": {"updated_at": "2026-01-01T10:00:00+00:00"},
        },
    }

    api.set_stream_states(crm.connection_id, {"customers": message})

    assert airbyte.connection("voiceops-crm").state == {
        "customers": {"updated_at": "2026-01-01T10:00:00+00:00"}
    }
    assert api.get_stream_states(crm.connection_id) == {"customers": message}
