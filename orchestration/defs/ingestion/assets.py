"""Ingestion assets: Airbyte streams and recordings land on an ``ingest-*`` lake branch.

One run ingests one simulated day (a daily partition). Every asset of the run writes to the
same branch, ``ingest-<date>-<run id>``; ``contact_center_ingestion`` commits it once with
record counts, quarantine counts, connector versions and sync state. The branch is not
merged: the warehouse audits and publishes it.

Embedded mode (``ingest_day_job``): PyAirbyte reads the records in this process. Server mode
(``land_day_job``, with ``AIRBYTE_REST_API_BASE_URL``): per Airbyte connection, one asset
creates the branch, points the connection's S3 destination at it (lakeFS S3 gateway),
syncs through ``dagster-airbyte``, then validates and lands what Airbyte staged exactly as
embedded mode lands its records (``ingestion/airbyte/lake_sync.py``).

The voice corpus (studio deliveries of read speech for TTS) runs embedded in both modes: its
manifest rows through the ``voice_corpus`` connection, its WAVs landed as recordings are.
"""

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetsDefinition,
    AssetSpec,
    DailyPartitionsDefinition,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    asset,
    define_asset_job,
    multi_asset,
)

from core.sealing import Sealer
from core.settings import Settings
from ingestion import lake_landing, schemas, validation
from ingestion.airbyte.server import VoiceOpsAirbyteWorkspace, sanitize_name
from ingestion.simulator import layout
from orchestration.defs.retries import SERVER_RETRY_POLICY
from orchestration.resources.lake import LakeResource

INGESTION_GROUP = "ingestion"
DAYS = DailyPartitionsDefinition(start_date=layout.EPOCH.isoformat(), end_offset=1)

CRM_KEYS = {
    "customers": AssetKey(["airbyte", "crm", "customers"]),
    "tickets": AssetKey(["airbyte", "crm", "tickets"]),
}
CALLS_KEY = AssetKey(["airbyte", "call_exports", "calls"])
RECORDINGS_KEY = AssetKey(["lake", "recordings"])
VOICE_CORPUS_KEY = AssetKey(["airbyte", "voice_corpus", "utterances"])
VOICE_CORPUS_AUDIO_KEY = AssetKey(["lake", "voice_corpus_audio"])
COMMIT_KEY = AssetKey(["lake", "contact_center_ingestion"])


def _day(context: AssetExecutionContext) -> date:
    return date.fromisoformat(context.partition_key)


def _branch(context: AssetExecutionContext, lake: LakeResource) -> str:
    """The run's branch (created on first use, from the default branch)."""
    branch = lake_landing.ingest_branch_name(context.run_id, _day(context))
    lake_landing.ensure_ingest_branch(lake.get_lake(), lake.repository_name, branch)
    return branch


def _landing_metadata(landing: lake_landing.Landing, branch: str) -> dict:
    return {
        "records": landing.records,
        "quarantined": landing.quarantined,
        "erased": landing.erased,
        "unattributed": landing.unattributed,
        "bytes": landing.bytes,
        "branch": branch,
        "paths": MetadataValue.json(landing.paths[:50]),
        "quarantine_paths": MetadataValue.json(landing.quarantine_paths[:50]),
        "connector": f"{landing.connector}=={landing.connector_version}",
    }


@multi_asset(
    specs=[
        AssetSpec(
            key,
            group_name=INGESTION_GROUP,
            kinds={"airbyte", "python"},
            description=f"CRM {stream}, synced incrementally on updated_at.",
        )
        for stream, key in CRM_KEYS.items()
    ],
    partitions_def=DAYS,
)
def crm_streams(context: AssetExecutionContext, lake: LakeResource):
    """Sync the CRM API with the declarative Airbyte connector and land it on the branch."""
    from ingestion.airbyte.embedded import sync_crm
    from ingestion.crm_endpoint import crm_endpoint

    settings = lake.settings()
    client, repo = lake.get_lake(), lake.repository_name
    branch = _branch(context, lake)
    refused = _refused_by_gate(settings)
    states = {
        stream: lake_landing.latest_state(client, repo, f"crm.{stream}", refused=refused)
        for stream in CRM_KEYS
    }
    with crm_endpoint(settings) as base_url:
        syncs = sync_crm(base_url, list(CRM_KEYS), states)
    sealer = Sealer.from_settings(settings)
    for sync in syncs:
        checked = validation.check_crm(sync.stream, sync.records)
        landing = lake_landing.land_records(
            client,
            repo,
            branch,
            run_id=context.run_id,
            source="crm",
            stream=sync.stream,
            day=_day(context),
            checked=checked,
            schema=schemas.BY_STREAM[("crm", sync.stream)],
            connector=sync.connector,
            connector_version=sync.connector_version,
            state=sync.state,
            sealer=sealer,
        )
        yield MaterializeResult(
            asset_key=CRM_KEYS[sync.stream], metadata=_landing_metadata(landing, branch)
        )


def _refused_by_gate(settings: Settings) -> Callable[[str], bool]:
    """Whether the publish gate refused a commit (its records must be pulled again)."""
    from warehouse.audits import audit_log

    log = audit_log(settings)

    def refused(commit_id: str) -> bool:
        audit = log.get(commit_id)
        return audit is not None and not audit.ok

    return refused


@asset(
    key=CALLS_KEY,
    group_name=INGESTION_GROUP,
    kinds={"airbyte", "python"},
    partitions_def=DAYS,
    description="The day's call export (JSONL) through Airbyte source-file.",
)
def call_exports_calls(context: AssetExecutionContext, lake: LakeResource) -> MaterializeResult:
    """Sync the day's call export; unparseable lines and invalid calls go to quarantine."""
    from ingestion.airbyte.embedded import sync_call_exports

    settings = lake.settings()
    client, repo = lake.get_lake(), lake.repository_name
    branch = _branch(context, lake)
    export = layout.calls_jsonl(settings.sources_root, (_day(context) - layout.EPOCH).days + 1)
    if not export.is_file():
        raise FileNotFoundError(f"call export {export} does not exist (simulate the day first)")
    state = lake_landing.latest_state(
        client, repo, "call_exports.calls", refused=_refused_by_gate(settings)
    )
    sync = sync_call_exports(export, state)
    checked = validation.check_calls(sync.records)
    for reject in sync.rejects:
        checked.reject(reject.get("raw"), f"{reject['reason']} (line {reject.get('line')})")
    landing = lake_landing.land_records(
        client,
        repo,
        branch,
        run_id=context.run_id,
        source="call_exports",
        stream="calls",
        day=_day(context),
        checked=checked,
        schema=schemas.CALLS,
        connector=sync.connector,
        connector_version=sync.connector_version,
        state=sync.state,
        sealer=Sealer.from_settings(settings),
    )
    return MaterializeResult(metadata=_landing_metadata(landing, branch))


@asset(
    key=RECORDINGS_KEY,
    group_name=INGESTION_GROUP,
    kinds={"lakefs"},
    partitions_def=DAYS,
    deps=[CALLS_KEY],
    description="The day's call recordings (binary, straight to the lake; keyed by call id).",
)
def call_recordings(context: AssetExecutionContext, lake: LakeResource) -> MaterializeResult:
    """Upload the day's WAVs, sealed under their caller's key (from the day's call export);
    ones that break the 8 kHz mono contract go to quarantine."""
    settings = lake.settings()
    day = _day(context)
    day_number = (day - layout.EPOCH).days + 1
    branch = _branch(context, lake)
    landing = lake_landing.land_recordings(
        lake.get_lake(),
        lake.repository_name,
        branch,
        run_id=context.run_id,
        day=day,
        directory=layout.recordings_dir(settings.sources_root, day_number),
        sealer=Sealer.from_settings(settings),
        owners=lake_landing.call_owners(layout.calls_jsonl(settings.sources_root, day_number)),
    )
    return MaterializeResult(metadata=_landing_metadata(landing, branch))


@multi_asset(
    specs=[
        AssetSpec(
            VOICE_CORPUS_KEY,
            group_name=INGESTION_GROUP,
            kinds={"airbyte", "python"},
            description="Voice-corpus manifests (studio deliveries) through Airbyte source-file.",
        ),
        AssetSpec(
            VOICE_CORPUS_AUDIO_KEY,
            group_name=INGESTION_GROUP,
            kinds={"lakefs"},
            description="The WAVs of the voice-corpus rows that passed validation.",
        ),
    ],
    partitions_def=DAYS,
)
def voice_corpus(context: AssetExecutionContext, lake: LakeResource):
    """Sync every delivery under ``<sources>/voice_corpus/`` not synced before; rows with a
    missing field, an unknown language or voice, a held-out festvox-ru sentence or a bad WAV
    go to quarantine with the file, field and reason; the WAVs of the rest land beside them."""
    from ingestion.airbyte.embedded import sync_voice_corpus
    from ingestion.voice_corpus.delivery import AUDIO_DIR, delivery_manifests, voice_corpus_root

    settings = lake.settings()
    client, repo = lake.get_lake(), lake.repository_name
    branch = _branch(context, lake)
    state = lake_landing.latest_state(
        client, repo, "voice_corpus.utterances", refused=_refused_by_gate(settings)
    )
    checked, wavs, seen = validation.Checked(), [], set()
    connector = connector_version = ""
    root = voice_corpus_root(settings.sources_root)
    for manifest in delivery_manifests(settings.sources_root):
        sync = sync_voice_corpus(manifest, state)
        state, connector, connector_version = sync.state, sync.connector, sync.connector_version
        name = manifest.relative_to(root).as_posix()
        found = validation.check_voice_corpus(
            sync.records, manifest.parent / AUDIO_DIR, manifest=name, seen=seen
        )
        for reject in sync.rejects:
            found.reject(reject.get("raw"), f"{reject['reason']} (file {name})")
        checked.valid += found.valid
        checked.rejects += found.rejects
        wavs += [manifest.parent / AUDIO_DIR / row["audio_file"] for row in found.valid]
    sealer = Sealer.from_settings(settings)
    landing = lake_landing.land_records(
        client,
        repo,
        branch,
        run_id=context.run_id,
        source="voice_corpus",
        stream="utterances",
        day=_day(context),
        checked=checked,
        schema=schemas.VOICE_CORPUS,
        connector=connector,
        connector_version=connector_version,
        state=state,
        sealer=sealer,
    )
    yield MaterializeResult(asset_key=VOICE_CORPUS_KEY, metadata=_landing_metadata(landing, branch))
    audio = lake_landing.land_wavs(
        client,
        repo,
        branch,
        run_id=context.run_id,
        day=_day(context),
        files=wavs,
        sealer=sealer,
        owners={},
        area=lake_landing.VOICE_CORPUS_AUDIO_AREA,
    )
    yield MaterializeResult(
        asset_key=VOICE_CORPUS_AUDIO_KEY, metadata=_landing_metadata(audio, branch)
    )


@asset(
    key=COMMIT_KEY,
    group_name=INGESTION_GROUP,
    kinds={"lakefs"},
    partitions_def=DAYS,
    deps=[*CRM_KEYS.values(), CALLS_KEY, RECORDINGS_KEY, VOICE_CORPUS_KEY, VOICE_CORPUS_AUDIO_KEY],
    description="The committed ingestion branch: one lake commit per run, not yet published.",
)
def contact_center_ingestion(
    context: AssetExecutionContext, lake: LakeResource
) -> MaterializeResult:
    """Commit everything the run landed, with counts, connectors and sync state as metadata."""
    client, repo = lake.get_lake(), lake.repository_name
    branch = _branch(context, lake)
    prefix = f"_ingest/runs/{context.run_id}/"
    landings = []
    for obj in client.list_objects(repo, branch, prefix):
        fields = json.loads(client.read_bytes(repo, branch, obj.path))
        fields.setdefault("paths", [])
        landings.append(lake_landing.Landing(**fields))
    commit = lake_landing.commit_ingestion(
        client, repo, branch, run_id=context.run_id, day=_day(context), landings=landings
    )
    return MaterializeResult(
        metadata={
            "commit_id": commit.id,
            "branch": branch,
            "lake_uri": f"lakefs://{repo}/{commit.id}/",
            "records": MetadataValue.json({x.key: x.records for x in landings}),
            "quarantined": MetadataValue.json({x.key: x.quarantined for x in landings}),
            "erased": MetadataValue.json({x.key: x.erased for x in landings}),
            "message": commit.message,
        },
        data_version=DataVersion(commit.id),
    )


# -- server mode: an Airbyte server syncs into the branch through the lake's S3 gateway -------

#: Runs that point the same S3 destinations at their branches must not overlap: limit this
#: pool to 1 (``dagster instance concurrency set airbyte_lake 1``).
LAKE_SYNC_POOL = "airbyte_lake"


def _value(metadata: dict[str, Any], key: str) -> Any:
    """A metadata entry's plain value (``MetadataValue`` or raw), None when absent."""
    entry = metadata.get(key)
    return getattr(entry, "value", entry)


def server_lake_assets(
    connection_id: str, connection_name: str, source: str, specs: Sequence[AssetSpec]
) -> AssetsDefinition:
    """The day's sync of one Airbyte server connection into the run's ingest branch.

    Keeps the keys of the embedded assets (``airbyte/<source>/<stream>``); each
    materialization carries the sync job (``airbyte_*``) and the landing (``records``,
    ``quarantined``, ``branch``...).
    """

    @multi_asset(
        name=f"airbyte_{source}_into_lake",
        specs=[spec.replace_attributes(kinds={"airbyte", "lakefs"}) for spec in specs],
        partitions_def=DAYS,
        pool=LAKE_SYNC_POOL,
        retry_policy=SERVER_RETRY_POLICY,
    )
    def sync_into_branch(
        context: AssetExecutionContext, airbyte: VoiceOpsAirbyteWorkspace, lake: LakeResource
    ):
        yield from _sync_into_branch(context, airbyte, lake, connection_id, connection_name, source)

    return sync_into_branch


def _full_refresh_state(sync_mode: str, job_id: int) -> dict[str, Any] | None:
    """What a full-refresh stream keeps as state (Airbyte has none): the job that read it."""
    return (
        {"sync_mode": sync_mode, "airbyte_job_id": job_id} if sync_mode == "full_refresh" else None
    )


def _lake_states(lake: LakeResource, source: str, streams: list[str]) -> dict[str, Any]:
    """The newest sync state of each stream kept in the lake (None: start from scratch)."""
    client, repo = lake.get_lake(), lake.repository_name
    refused = _refused_by_gate(lake.settings())
    return {
        name: lake_landing.latest_state(client, repo, f"{source}.{name}", refused=refused)
        for name in streams
    }


def _sync_into_branch(
    context: AssetExecutionContext,
    airbyte: VoiceOpsAirbyteWorkspace,
    lake: LakeResource,
    connection_id: str,
    connection_name: str,
    source: str,
) -> Iterator[MaterializeResult]:
    """Branch -> destination at the branch -> sync -> validate + land (uncommitted)."""
    from ingestion.airbyte.lake_destination import lake_connection
    from ingestion.airbyte.lake_sync import (
        land_staged_stream,
        point_connection_at_branch,
        restore_stream_states,
    )
    from ingestion.airbyte.server_api import AirbyteServerApi
    from ingestion.airbyte.staged import clear_staging

    settings = lake.settings()
    client, repo = lake.get_lake(), lake.repository_name
    branch = _branch(context, lake)
    api = AirbyteServerApi(airbyte.get_client())
    point_connection_at_branch(api, settings, connection_id, source, repo, branch)
    clear_staging(client, repo, branch, source)  # a retried step starts from nothing staged
    streams = lake_connection(source).streams
    sealer = Sealer.from_settings(settings)
    incremental = [name for name, stream in streams.items() if stream.sync_mode == "incremental"]
    restore_stream_states(api, connection_id, _lake_states(lake, source, incremental))
    # A failed sync raises here: nothing is landed, and the commit step never runs.
    synced: list[MaterializeResult | AssetMaterialization] = list(airbyte.sync_and_poll(context))
    states = api.get_stream_states(connection_id)
    stream_by_key = {sanitize_name(name): name for name in streams}
    landed: list[MaterializeResult] = []
    for result in synced:
        metadata = dict(result.metadata or {})
        stream = stream_by_key.get(result.asset_key.path[-1])
        if stream is None:
            raise ValueError(
                f"Airbyte synced {result.asset_key.to_user_string()}, a stream that "
                f"connections/{source}.yaml does not have: run ingestion.airbyte.lake_setup"
            )
        job_id = int(_value(metadata, "airbyte_job_id"))
        landing = land_staged_stream(
            client,
            repo,
            branch,
            run_id=context.run_id,
            day=_day(context),
            source=source,
            stream=stream,
            sync_id=job_id,
            records_committed=_value(metadata, "airbyte_records_committed"),
            connector=f"airbyte-server:{connection_name}",
            connector_version=f"job-{job_id}",
            state=states.get(stream) or _full_refresh_state(streams[stream].sync_mode, job_id),
            sealer=sealer,
        )
        landed.append(
            MaterializeResult(
                asset_key=result.asset_key, metadata=metadata | _landing_metadata(landing, branch)
            )
        )
    clear_staging(client, repo, branch, source)  # staged JSONL never reaches the commit
    yield from landed


embedded_stream_assets = [crm_streams, call_exports_calls]
#: The voice corpus runs embedded in both modes (its WAVs are not an Airbyte stream).
lake_ingestion_assets = [call_recordings, voice_corpus, contact_center_ingestion]
CORPUS_KEYS = [VOICE_CORPUS_KEY, VOICE_CORPUS_AUDIO_KEY]
ingestion_assets = [*embedded_stream_assets, *lake_ingestion_assets]

ingest_day_job = define_asset_job(
    "ingest_day_job",
    selection=[*CRM_KEYS.values(), CALLS_KEY, RECORDINGS_KEY, *CORPUS_KEYS, COMMIT_KEY],
    partitions_def=DAYS,
    description="Ingest one simulated day into a new ingest-* branch of the lake.",
)

#: Server mode: the same keys, the streams from the Airbyte server (``server_lake_assets``).
land_day_job = define_asset_job(
    "land_day_job",
    selection=[*CRM_KEYS.values(), CALLS_KEY, RECORDINGS_KEY, *CORPUS_KEYS, COMMIT_KEY],
    partitions_def=DAYS,
    description="Sync one day through the Airbyte server into a new ingest-* branch, land "
    "and validate it with the recordings, and commit (server mode).",
)
