"""The lake repository as an asset: the root of every lineage arrow in VoiceOps.

Its data version is the head commit of ``main``, so downstream stages (warehouse, training)
can pin to the exact lake commit they consumed.
"""

from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    Config,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
    define_asset_job,
    in_process_executor,
)
from pydantic import Field

from orchestration.defs.retries import SERVER_RETRY_POLICY
from orchestration.resources.lake import LakeResource
from versioning.lake import ObjectStat

LAKE_GROUP = "lake"
REPOSITORY_KEY = AssetKey(["lake", "repository"])
#: How many fsck errors / warnings a check result lists (the counts are always complete).
MAX_LISTED_PROBLEMS = 20


@asset(
    key=REPOSITORY_KEY,
    retry_policy=SERVER_RETRY_POLICY,
    group_name=LAKE_GROUP,
    kinds={"lakefs"},
    description="The contact-center repository of the versioned lake (created if missing); "
    "data version = head commit of its default branch.",
)
def lake_repository(context: AssetExecutionContext, lake: LakeResource) -> MaterializeResult:
    """Ensure the repository exists and report its state at the head of ``main``."""
    client = lake.get_lake()
    repo = lake.ensure_repository(lake.repository_name)
    head = lake.head(repo.id, repo.default_branch)
    commit = client.get_commit(repo.id, head)
    objects = sum(
        1 for entry in client.list_objects(repo.id, head) if isinstance(entry, ObjectStat)
    )
    branches = client.list_branches(repo.id)
    tags = client.list_tags(repo.id)
    context.log.info(
        f"lake repository {repo.id}: {repo.default_branch} at {head[:12]}, {objects} objects"
    )
    metadata: dict[str, Any] = {
        "repository": repo.id,
        "backend": lake.settings().lake_backend,
        "storage_namespace": repo.storage_namespace,
        "default_branch": repo.default_branch,
        "head_commit_id": head,
        "lake_uri": f"lakefs://{repo.id}/{head}/",
        "branch_count": MetadataValue.int(len(branches)),
        "tag_count": MetadataValue.int(len(tags)),
        "object_count": MetadataValue.int(objects),
        "last_commit_message": commit.message,
        "last_commit_committer": commit.committer,
        "last_commit_date": MetadataValue.timestamp(commit.creation_date),
    }
    return MaterializeResult(metadata=metadata, data_version=DataVersion(head))


class LakeFsckConfig(Config):
    """Options of the lake consistency check."""

    verify_content: bool = Field(
        default=False,
        description="Also re-hash every object's bytes (slow on a big lake).",
    )


@asset_check(
    asset=lake_repository,
    name="lake_fsck",
    blocking=True,
    description="fsck of the repository: every commit, range and object it references is "
    "present and intact; fails on any error.",
)
def lake_fsck(
    context: AssetCheckExecutionContext, config: LakeFsckConfig, lake: LakeResource
) -> AssetCheckResult:
    """Run ``fsck`` on the configured repository."""
    report = lake.get_lake().fsck(lake.repository_name, verify_content=config.verify_content)
    for error in report.errors[:MAX_LISTED_PROBLEMS]:
        context.log.error(f"fsck: {error}")
    return AssetCheckResult(
        passed=report.ok,
        metadata={
            "repository": report.repository,
            "verify_content": config.verify_content,
            "checked_commits": MetadataValue.int(report.checked_commits),
            "checked_nodes": MetadataValue.int(report.checked_nodes),
            "checked_objects": MetadataValue.int(report.checked_objects),
            "error_count": MetadataValue.int(len(report.errors)),
            "warning_count": MetadataValue.int(len(report.warnings)),
            "errors": MetadataValue.json(report.errors[:MAX_LISTED_PROBLEMS]),
            "warnings": MetadataValue.json(report.warnings[:MAX_LISTED_PROBLEMS]),
        },
        description=None if report.ok else f"{len(report.errors)} fsck error(s)",
    )


@asset_check(
    asset=lake_repository,
    name="main_holds_only_audited_data",
    blocking=True,
    description="Every commit main ever held is a verified publish: a merge of the commit it "
    "names as audited, with that commit's content, whose strict audit passed (walked on the "
    "lake; commit metadata alone proves nothing).",
)
def main_holds_only_audited_data(lake: LakeResource) -> AssetCheckResult:
    """Walk main's first-parent history and verify each commit (``warehouse.verify``)."""
    from warehouse.audits import audit_log
    from warehouse.verify import main_problems

    problems = main_problems(lake.get_lake(), lake.repository_name, audit_log(lake.settings()))
    return AssetCheckResult(
        passed=not problems,
        metadata={
            "unaudited_commits": MetadataValue.int(len(problems)),
            "problems": MetadataValue.json(problems[:MAX_LISTED_PROBLEMS]),
        },
        description=None if not problems else f"{len(problems)} commit(s) skipped the gate",
    )


#: Materializes the lake group (assets and their checks) in one process.
lake_job = define_asset_job(
    "lake_job",
    selection=AssetSelection.groups(LAKE_GROUP),
    executor_def=in_process_executor,
    description="Refresh the lake repository asset and run its checks.",
)

lake_assets = [lake_repository]
lake_asset_checks = [lake_fsck, main_holds_only_audited_data]
