"""The rule every merge into ``main`` must pass, wherever the merge is asked for.

A merge into the protected default branch is a *publish*: its source commit must have a
strict, passing audit of the current dbt project, and what lands must be exactly what was
audited (``main`` is in the source's history, so the merge adds nothing the audit did not
see). The same rule runs in three places:

* in-process on the embedded lake, inside its write lock (:func:`audit_merge_check`);
* as the lakeFS pre-merge webhook (``warehouse/hook.py``), which lakeFS runs with the
  destination branch locked;
* in :func:`warehouse.publish.publish` before it asks for the merge (a clear early refusal).
"""

from __future__ import annotations

from collections.abc import Callable

from core.settings import Settings
from versioning.lake import Lake, MergeCheck, MergeRequest, MergeVetoedError, open_lake
from warehouse.audits import Audit, AuditLog, audit_log

KIND = "voiceops.kind"
PUBLISH = "publish"
AUDITED_COMMIT = "voiceops.audited_commit"
#: The current dbt project's manifest hash ("" when it cannot be computed: then refuse).
ManifestHash = Callable[[], str]


def merge_problems(request: MergeRequest, audit: Audit | None, manifest_hash: str) -> list[str]:
    """Why the merge may not go on (empty: it may), each reason one line.

    ``audit`` is the recorded strict audit of the source commit (None: there is none).
    """
    source = request.source_commit
    problems = []
    if request.metadata.get(KIND) != PUBLISH or request.metadata.get(AUDITED_COMMIT) != source:
        problems.append(
            f"merges into {request.destination_branch} are publishes of an audited commit "
            f"(metadata {KIND}={PUBLISH} and {AUDITED_COMMIT}={source[:12]}...; use "
            "`voiceops warehouse publish`)"
        )
    if audit is None or audit.commit_id != source or not audit.strict:
        return [*problems, f"commit {source[:12]} has no audit (run `voiceops warehouse audit`)"]
    if not audit.ok:
        problems.append(f"the audit of commit {source[:12]} did not pass: {audit.summary()}")
    if not manifest_hash:
        problems.append("the current dbt project's manifest hash is unknown (run dbt parse)")
    elif audit.manifest_hash != manifest_hash:
        problems.append(
            f"commit {source[:12]} was audited with another dbt project (manifest "
            f"{audit.manifest_hash[:12] or 'none'}, current {manifest_hash[:12]}): audit it again"
        )
    if not request.result_is_source:
        problems.append(
            f"{request.destination_branch} moved to {request.destination_head[:12]} since "
            f"commit {source[:12]} was made: the merge would land data the audit never saw "
            "(audit the combined data: `voiceops warehouse publish` does)"
        )
    return problems


def audit_merge_check(audits: AuditLog, manifest_hash: ManifestHash) -> MergeCheck:
    """A lake merge check that refuses any merge :func:`merge_problems` objects to."""

    def check(request: MergeRequest) -> None:
        try:
            audit = audits.get(request.source_commit)
        except ValueError as error:
            raise MergeVetoedError(str(error)) from None
        problems = merge_problems(request, audit, manifest_hash())
        if problems:
            raise MergeVetoedError(
                f"merge of {request.source_commit[:12]} into {request.repository}/"
                f"{request.destination_branch} refused: " + "; ".join(problems)
            )

    return check


def open_guarded_lake(settings: Settings) -> Lake:
    """The configured lake, whose protected ``main`` lets in only what passes this rule."""
    from warehouse.manifest import current_manifest_hash

    check = audit_merge_check(audit_log(settings), lambda: current_manifest_hash(settings))
    return open_lake(settings, [check])
