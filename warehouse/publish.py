"""Publish: move ``main`` to exactly the commit an audit passed, or refuse and change nothing.

Write-audit-publish on a lake whose ``main`` moves on while branches wait:

1. :func:`publish_candidate` picks what to audit for an ingest branch. When ``main`` is in the
   branch's history, the branch head is what would land. Otherwise ``main`` moved since the
   branch was forked (another day was published), and what would land is the *combination*:
   ``main`` merged with the branch on a scratch branch ``publish-<branch>``, and that merge
   commit is what gets audited.
2. :func:`publish` merges the audited *commit id* (never a branch name, which could move)
   into ``main``, only while ``main`` is still where the audited commit was made from
   (``expected_destination_head``), and checks afterwards that ``main`` holds exactly the
   audited content. A second branch forked from the same ``main`` is refused until its
   combination with the new ``main`` has been audited.

Every publish and every refusal is appended to the trail (:mod:`core.trail`), which is
opened first: a publish whose trail cannot be opened does not happen.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from core.settings import Settings
from core.trail import Trail, open_trail, record
from versioning.lake import (
    ConflictError,
    Lake,
    MergeRequest,
    MergeResult,
    MergeVetoedError,
    NotFoundError,
    PreconditionFailedError,
)
from warehouse.audits import Audit, AuditLog, PublishRefused
from warehouse.guard import AUDITED_COMMIT, KIND, PUBLISH, merge_problems

COMBINED_PREFIX = "publish-"


@dataclass(frozen=True)
class Candidate:
    """What an audit of ``branch`` must be of: its head, or its combination with main."""

    branch: str
    ref: str  # the branch itself, or the scratch branch holding the combination
    commit_id: str
    combined: bool


def combined_branch(branch: str) -> str:
    """``publish-<branch>``: where the combination of ``main`` and ``branch`` is audited."""
    return f"{COMBINED_PREFIX}{branch}"


def _trail(trail: Trail | None) -> Trail:
    """``trail``, else the platform's as the environment configures it now (so that no
    caller publishes unrecorded)."""
    return trail if trail is not None else open_trail(Settings())


def _record_refusal(
    trail: Trail, repository: str, branch: str, refused: PublishRefused, **details: Any
) -> None:
    record(
        trail,
        "publish.refused",
        f"lakefs://{repository}/{branch}",
        {"reason": str(refused), **details},
    )


def publish_candidate(
    lake: Lake, repository: str, branch: str, *, trail: Trail | None = None
) -> Candidate:
    """The commit whose audit decides whether ``branch`` may be published now (a conflict
    with main is a refused publish, recorded in ``trail``)."""
    trail = _trail(trail)
    default = lake.get_repository(repository).default_branch
    head = lake.get_branch(repository, branch).commit_id
    main = lake.get_branch(repository, default).commit_id
    if lake.is_ancestor(repository, main, head):
        return Candidate(branch, branch, head, combined=False)
    scratch = combined_branch(branch)
    with contextlib.suppress(NotFoundError):
        lake.delete_branch(repository, scratch)  # an earlier attempt, against an older main
    lake.create_branch(repository, scratch, main)
    try:
        merged = lake.merge(
            repository,
            head,
            scratch,
            message=f"Combine {branch} with {default} @ {main[:12]} for its audit",
            metadata={KIND: "combine", "voiceops.candidate_branch": branch},
            allow_fast_forward=False,
        )
    except ConflictError as error:
        lake.delete_branch(repository, scratch)
        refused = PublishRefused(
            f"publish of {branch} refused: it conflicts with {default} ({error}); "
            "the branch stays for inspection"
        )
        _record_refusal(trail, repository, branch, refused, commit=head, main=main)
        raise refused from None
    return Candidate(branch, scratch, merged.commit_id, combined=True)


def _metadata(branch: str, audit: Audit) -> dict[str, str]:
    return {
        KIND: PUBLISH,
        "voiceops.published_branch": branch,
        AUDITED_COMMIT: audit.commit_id,
        "voiceops.audit_schema": audit.schema,
        "voiceops.checks_passed": str(len(audit.checks)),
        "voiceops.dbt_manifest_hash": audit.manifest_hash,
    }


def publish(
    lake: Lake,
    repository: str,
    commit_id: str,
    audits: AuditLog,
    *,
    branch: str,
    manifest_hash: str,
    trail: Trail | None = None,
) -> MergeResult:
    """Merge the audited ``commit_id`` into main if its recorded audit allows it.

    ``branch`` names what is published (for messages and metadata); ``manifest_hash`` is
    the current dbt project's. Raises :class:`PublishRefused` with every reason, main
    unchanged. The publish or the refusal is appended to ``trail`` (default: the
    platform's).
    """
    trail = _trail(trail)
    try:
        result = _merge_audited(lake, repository, commit_id, audits, branch, manifest_hash)
    except PublishRefused as refused:
        _record_refusal(trail, repository, branch, refused, commit=commit_id)
        raise
    metadata = result.metadata
    record(
        trail,
        "publish",
        f"lakefs://{repository}/{branch}@{commit_id}",
        {
            "into": result.destination,
            "merge_commit": result.merge.commit_id,
            "checks_passed": metadata["voiceops.checks_passed"],
            "audit_schema": metadata["voiceops.audit_schema"],
            "dbt_manifest_hash": metadata["voiceops.dbt_manifest_hash"],
        },
    )
    if lake.diff(repository, commit_id, result.merge.commit_id):
        raise RuntimeError(
            f"{result.destination} @ {result.merge.commit_id[:12]} differs from the audited "
            f"commit {commit_id[:12]}: unaudited data reached {result.destination}; revert it "
            "and investigate"
        )
    return result.merge


@dataclass(frozen=True)
class _Merged:
    merge: MergeResult
    destination: str
    metadata: dict[str, str]


def _merge_audited(
    lake: Lake,
    repository: str,
    commit_id: str,
    audits: AuditLog,
    branch: str,
    manifest_hash: str,
) -> _Merged:
    """The merge of :func:`publish`, without its trail entry."""
    try:
        audit = audits.get(commit_id)
    except ValueError as error:
        raise PublishRefused(f"publish of {branch} refused: {error}") from None
    if audit is None:
        raise PublishRefused(
            f"publish of {branch} refused: no audit recorded for commit {commit_id[:12]}"
        )
    default = lake.get_repository(repository).default_branch
    head = lake.get_branch(repository, default).commit_id
    metadata = _metadata(branch, audit)
    message = f"Publish {branch}: {audit.summary()}"
    request = MergeRequest(
        repository,
        commit_id,
        commit_id,
        default,
        head,
        lake.merge_base(repository, commit_id, head),
        message,
        metadata,
    )
    problems = merge_problems(request, audit, manifest_hash)
    if problems:
        where = f" (commit {commit_id[:12]}, audit schema {audit.schema})" if audit.failed else ""
        raise PublishRefused(
            f"publish of {branch} refused: {'; '.join(problems)}{where}; "
            "the branch stays for inspection"
        )
    try:
        result = lake.merge(
            repository,
            commit_id,
            default,
            message=message,
            metadata=metadata,
            allow_fast_forward=False,
            expected_destination_head=head,
        )
    except (PreconditionFailedError, MergeVetoedError) as error:
        raise PublishRefused(f"publish of {branch} refused: {error}") from None
    return _Merged(result, default, metadata)
