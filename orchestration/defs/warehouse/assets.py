"""Warehouse assets: load an ingest branch, build and test it with dbt, publish it if clean.

Write-audit-publish, one branch per run: ``warehouse/raw/*`` loads what publishing the newest
unpublished ``ingest-*`` branch (or the configured one) would put on ``main`` into its own
audit schema: the branch head, or, when ``main`` moved since the branch was forked, its
combination with ``main`` (``warehouse.publish.publish_candidate``). The dbt assets build every
model there and run every test (each dbt test is a Dagster asset check); ``lake/published``
merges exactly the audited commit into ``main`` only if every check passed and ``main`` did not
move, then rebuilds the ``published`` schema from ``main``; a failed rebuild fails the run,
and training refuses marts that are not a successful build of ``main``'s head.
"""

import contextlib

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)
from pydantic import Field

from core.trail import open_trail
from orchestration.defs.ingestion.assets import (
    CALLS_KEY,
    COMMIT_KEY,
    CRM_KEYS,
    RECORDINGS_KEY,
    VOICE_CORPUS_AUDIO_KEY,
    VOICE_CORPUS_KEY,
)
from orchestration.defs.retries import SERVER_RETRY_POLICY, refusal
from orchestration.resources.lake import LakeResource
from versioning.lake import Lake, NotFoundError
from warehouse.audits import PublishRefused, audit_log
from warehouse.builds import build_schema
from warehouse.connection import Warehouse
from warehouse.load import load_commit
from warehouse.manifest import current_manifest_hash
from warehouse.publish import publish, publish_candidate
from warehouse.schemas import MARTS, PUBLISHED, audit_schema

WAREHOUSE_GROUP = "warehouse"
RAW_SOURCES = {
    "crm_customers": CRM_KEYS["customers"],
    "crm_tickets": CRM_KEYS["tickets"],
    "call_exports_calls": CALLS_KEY,
    "recordings": RECORDINGS_KEY,
    "voice_corpus_utterances": VOICE_CORPUS_KEY,
    "voice_corpus_audio": VOICE_CORPUS_AUDIO_KEY,
    "quarantine": COMMIT_KEY,
}
RAW_KEYS = {table: AssetKey(["warehouse", "raw", table]) for table in RAW_SOURCES}
#: Warehouse assets are keyed ``warehouse/<layer>/<name>`` (dbt models: see ``dbt.py``).
WAREHOUSE_KEY_ROOT = "warehouse"
PUBLISHED_KEY = AssetKey(["lake", "published"])


def mart_key(mart: str) -> AssetKey:
    """The asset key of dbt mart ``mart``."""
    return AssetKey([WAREHOUSE_KEY_ROOT, "marts", mart])


class AuditConfig(Config):
    branch: str = Field(
        default="",
        description="The ingest-* branch to audit; empty: the newest one not yet published.",
    )


def unpublished_branches(lake: Lake, repository: str) -> list[str]:
    """``ingest-*`` branches whose head is not in the default branch, newest first."""
    default = lake.get_repository(repository).default_branch
    published = {c.id for c in lake.log(repository, default)}
    heads = [
        (lake.get_commit(repository, b.commit_id), b.id)
        for b in lake.list_branches(repository)
        if b.id.startswith("ingest-") and b.commit_id not in published
    ]
    return [name for commit, name in sorted(heads, key=lambda h: -h[0].creation_date)]


def _audit_target(context: AssetExecutionContext) -> dict:
    """Branch, commit and schema that ``warehouse/raw`` loaded (read from its metadata)."""
    event = context.instance.get_latest_materialization_event(RAW_KEYS["call_exports_calls"])
    if event is None or event.asset_materialization is None:
        raise refusal("nothing loaded yet: materialize warehouse/raw first")
    meta = event.asset_materialization.metadata
    keys = ("branch", "audited_ref", "commit_id", "schema")
    return {key: meta[key].value for key in keys if key in meta}


@multi_asset(
    specs=[
        AssetSpec(
            key,
            deps=[RAW_SOURCES[table]],
            group_name=WAREHOUSE_GROUP,
            kinds={"duckdb", "postgres"},
            description=f"Raw {table} of one lake commit, in the branch's audit schema.",
        )
        for table, key in RAW_KEYS.items()
    ],
    retry_policy=SERVER_RETRY_POLICY,
)
def warehouse_raw(context: AssetExecutionContext, config: AuditConfig, lake: LakeResource):
    """Load what publishing the branch would land into ``audit_<ref>_raw`` (incrementally)."""
    settings = lake.settings()
    client, repo = lake.get_lake(), lake.repository_name
    candidates = [config.branch] if config.branch else unpublished_branches(client, repo)
    if not candidates:
        raise refusal("no unpublished ingest-* branch to audit (run ingest_day_job first)")
    branch = candidates[0]
    try:
        candidate = publish_candidate(client, repo, branch, trail=open_trail(settings))
    except PublishRefused as refused:
        raise refusal(str(refused)) from None
    schema = audit_schema(candidate.ref)
    with Warehouse.from_settings(settings) as warehouse:
        report = load_commit(client, repo, candidate.commit_id, warehouse, schema)
    combined = " (combined with main)" if candidate.combined else ""
    context.log.info(
        f"loaded {candidate.ref} @ {report.commit_id[:12]}{combined} into {schema}: {report.rows}"
    )
    for table, key in RAW_KEYS.items():
        yield MaterializeResult(
            asset_key=key,
            metadata={
                "branch": branch,
                "audited_ref": candidate.ref,
                "combined_with_main": candidate.combined,
                "commit_id": report.commit_id,
                "schema": schema,
                "rows_loaded": report.rows.get(table, 0),
                "objects_loaded": report.objects_loaded,
                "objects_skipped": report.objects_skipped,
                "warehouse": warehouse.description,
            },
        )


@asset(
    key=PUBLISHED_KEY,
    group_name=WAREHOUSE_GROUP,
    kinds={"lakefs"},
    deps=[mart_key(name) for name in MARTS],
    retry_policy=SERVER_RETRY_POLICY,
    description="main of the lake: the audited branch merged only if every check passed.",
)
def published(context: AssetExecutionContext, lake: LakeResource) -> MaterializeResult:
    """Merge the audited commit into main if its audit passed; then rebuild `published`."""
    settings = lake.settings()
    client, repo = lake.get_lake(), lake.repository_name
    target = _audit_target(context)
    audits = audit_log(settings)
    audit = audits.get(target["commit_id"])
    try:
        merge = publish(
            client,
            repo,
            target["commit_id"],
            audits,
            branch=target["branch"],
            manifest_hash=current_manifest_hash(settings),
            trail=open_trail(settings),
        )
    except PublishRefused as refused:
        failed = [c.name for c in audit.failed] if audit else []
        raise Failure(
            description=str(refused),
            metadata={"failed_checks": MetadataValue.json(failed)},
            allow_retries=False,
        ) from None
    audited_ref = target.get("audited_ref", target["branch"])
    if audited_ref != target["branch"]:  # the scratch branch of a combination: now in main
        with contextlib.suppress(NotFoundError):
            client.delete_branch(repo, audited_ref)
    with Warehouse.from_settings(settings) as warehouse:
        load = load_commit(client, repo, merge.commit_id, warehouse, PUBLISHED)
    rebuilt = build_schema(settings, PUBLISHED, merge.commit_id)
    if rebuilt.returncode != 0:
        failed = [c.name for c in rebuilt.checks if not c.passed]
        raise Failure(
            description=f"main moved to {merge.commit_id[:12]} but the dbt build of the "
            f"{PUBLISHED} schema failed ({', '.join(failed) or 'see its log'}): models will not "
            f"train on it until it is rebuilt; log tail: {rebuilt.log_tail[-500:]}",
            metadata={"published_commit": merge.commit_id, "failed": MetadataValue.json(failed)},
            allow_retries=False,
        )
    return MaterializeResult(
        metadata={
            "published_commit": merge.commit_id,
            "branch": target["branch"],
            "audited_commit": target["commit_id"],
            "checks_passed": len(audit.checks) if audit else 0,
            "published_schema": PUBLISHED,
            "published_rows_loaded": load.rows_loaded,
            "published_manifest_hash": rebuilt.manifest_hash,
        },
    )


warehouse_assets = [warehouse_raw, published]
