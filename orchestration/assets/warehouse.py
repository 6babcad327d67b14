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

# No ``from __future__ import annotations``: Dagster inspects the context type hints.
import contextlib
import io
from collections.abc import Mapping
from typing import Any

from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    AssetSpec,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
    define_asset_job,
    multi_asset,
)
from dagster_dbt import (
    DagsterDbtTranslator,
    DbtCliInvocation,
    DbtCliResource,
    DbtProject,
    dbt_assets,
    get_asset_key_for_model,
)
from pydantic import Field

from core.settings import scoped_environ
from orchestration.assets.ingestion import CALLS_KEY, COMMIT_KEY, CRM_KEYS, RECORDINGS_KEY
from orchestration.dbt_project import DBT_PROJECT
from orchestration.resources.lake import LakeResource
from versioning.lake import Lake, NotFoundError
from warehouse.audits import Audit, PublishRefused, audit_log
from warehouse.builds import build_schema
from warehouse.connection import Warehouse
from warehouse.dbt_build import checks_from_run_results, dbt_env, dbt_vars, manifest_hash
from warehouse.load import load_commit
from warehouse.manifest import current_manifest_hash, project_fingerprint, remember_manifest_hash
from warehouse.publish import publish, publish_candidate
from warehouse.schemas import PUBLISHED, audit_schema

WAREHOUSE_GROUP = "warehouse"
RAW_SOURCES = {
    "crm_customers": CRM_KEYS["customers"],
    "crm_tickets": CRM_KEYS["tickets"],
    "call_exports_calls": CALLS_KEY,
    "recordings": RECORDINGS_KEY,
    "quarantine": COMMIT_KEY,
}
RAW_KEYS = {table: AssetKey(["warehouse", "raw", table]) for table in RAW_SOURCES}
PUBLISHED_KEY = AssetKey(["lake", "published"])
MARTS = (
    "nlu_examples",
    "stt_examples",
    "nlg_examples",
    "tts_examples",
    "quarantine",
    "data_quality_summary",
)


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
        raise Failure("nothing loaded yet: materialize warehouse/raw first")
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
)
def warehouse_raw(context: AssetExecutionContext, config: AuditConfig, lake: LakeResource):
    """Load what publishing the branch would land into ``audit_<ref>_raw`` (incrementally)."""
    settings = lake.settings()
    client, repo = lake.get_lake(), lake.repository_name
    candidates = [config.branch] if config.branch else unpublished_branches(client, repo)
    if not candidates:
        raise Failure("no unpublished ingest-* branch to audit (run ingest_day_job first)")
    branch = candidates[0]
    try:
        candidate = publish_candidate(client, repo, branch)
    except PublishRefused as refused:
        raise Failure(description=str(refused)) from None
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


class DbtBuildConfig(Config):
    """Run config of ``voiceops_dbt``: how much of dbt's output reaches the terminal."""

    echo_dbt_log: bool = Field(
        default=True,
        description="Echo dbt's log on stdout as dbt runs (every node, as `dbt build` prints "
        "it). False (the CLI demo): nothing on stdout; results still become materializations, "
        "asset checks and the audit, and dbt's full log is in the run's target dir (dbt.log).",
    )


def _events_without_echo(invocation: DbtCliInvocation) -> list[Any]:
    """Every Dagster event of ``invocation.stream()``, with dagster-dbt's echo of dbt's log
    (it writes each line to ``sys.stdout``, with no option to turn it off) swallowed.

    Collected before they are yielded: stdout is only redirected while dbt runs.
    """
    with contextlib.redirect_stdout(io.StringIO()):
        return list(invocation.stream())


class VoiceOpsDbtTranslator(DagsterDbtTranslator):
    """dbt models in the ``warehouse`` group; dbt tests as non-blocking asset checks.

    The gate is ``lake/published``: it runs after every test and refuses the merge naming the
    failed checks (a blocking check would skip it without a word about the publish).
    """

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str:
        return WAREHOUSE_GROUP

    def get_asset_check_spec(
        self,
        asset_spec: AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        return None if spec is None else spec._replace(blocking=False)


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=VoiceOpsDbtTranslator(),
)
def voiceops_dbt(
    context: AssetExecutionContext,
    config: DbtBuildConfig,
    dbt: DbtCliResource,
    lake: LakeResource,
):
    """``dbt build`` in the audit schema: every model, every test (as asset checks)."""
    settings = lake.settings()
    target = _audit_target(context)
    # dbt's process reads its profile (and the Postgres password) from these; dagster-dbt
    # copies os.environ when it starts dbt, so they are set only while it does
    with scoped_environ(dbt_env(settings)):
        invocation = dbt.cli(
            ["build", "--vars", dbt_vars(target["schema"])], context=context, raise_on_error=False
        )
    if config.echo_dbt_log:
        yield from invocation.stream()
    else:
        yield from _events_without_echo(invocation)
        context.log.info(f"dbt log: {invocation.target_path / 'dbt.log'}")
    if not (invocation.target_path / "run_results.json").is_file():  # dbt stopped early
        raise invocation.get_error() or Failure("dbt build wrote no run_results.json")
    audit = Audit(
        repository=lake.repository_name,
        ref=target.get("audited_ref", target["branch"]),
        commit_id=target["commit_id"],
        schema=target["schema"],
        checks=checks_from_run_results(invocation.get_artifact("run_results.json")),
        manifest_hash=manifest_hash(invocation.get_artifact("manifest.json")),
    )
    remember_manifest_hash(settings, project_fingerprint(), audit.manifest_hash)
    audit_log(settings).save(audit)
    context.log.info(f"audit of {audit.ref}: {audit.summary()}")


@asset(
    key=PUBLISHED_KEY,
    group_name=WAREHOUSE_GROUP,
    kinds={"lakefs"},
    deps=[get_asset_key_for_model([voiceops_dbt], name) for name in MARTS],
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
        )
    except PublishRefused as refused:
        failed = [c.name for c in audit.failed] if audit else []
        raise Failure(
            description=str(refused), metadata={"failed_checks": MetadataValue.json(failed)}
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


warehouse_assets = [warehouse_raw, voiceops_dbt, published]

audit_publish_job = define_asset_job(
    "audit_publish_job",
    selection=AssetSelection.assets(*RAW_KEYS.values(), PUBLISHED_KEY)
    | AssetSelection.assets(voiceops_dbt),
    description="Load the newest unpublished ingest branch, dbt build + test it, publish if clean.",
)
