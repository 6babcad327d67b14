"""Verify, by walking the lake, that a commit on ``main`` holds only audited data.

Commit metadata can be written by anyone who commits, so it proves nothing by itself. A
publish merge is verified by its structure: two parents, the second being the commit it
names as audited; the same content as that commit (nothing else came in); and a strict,
passing audit recorded for it. The registry checks a model's commit this way before a
version may become champion; :func:`main_problems` checks every commit ``main`` ever held.
"""

from __future__ import annotations

from versioning.lake import Lake, LakeError
from warehouse.audits import Audit, AuditLog, validate_commit_id
from warehouse.guard import AUDITED_COMMIT, KIND, PUBLISH


def publish_problems(
    lake: Lake, repository: str, commit_id: str, audits: AuditLog
) -> tuple[list[str], Audit | None]:
    """Why ``commit_id`` is not a publish of audited data (empty: it is), and its audit."""
    try:
        entry = lake.get_commit(repository, commit_id)
    except LakeError as error:
        return [f"lake commit {commit_id[:12]} cannot be read: {error}"], None
    audited = entry.metadata.get(AUDITED_COMMIT, "")
    if entry.metadata.get(KIND) != PUBLISH or len(entry.parents) != 2:
        return [f"lake commit {entry.id[:12]} is not a publish merge ({entry.message!r})"], None
    if audited != entry.parents[1]:
        return [
            f"lake commit {entry.id[:12]} names {audited[:12] or 'no commit'} as audited, but "
            f"merged {entry.parents[1][:12]}"
        ], None
    try:
        audit = audits.get(validate_commit_id(audited))
        if lake.diff(repository, audited, entry.id):
            return [f"lake commit {entry.id[:12]} holds data its audited commit does not"], None
    except (ValueError, LakeError) as error:
        return [str(error)], None
    if audit is None:
        return [f"no audit recorded for the audited commit {audited[:12]}"], None
    if not audit.ok:
        return [f"the audit of {audited[:12]} did not pass: {audit.summary()}"], audit
    return [], audit


def main_problems(lake: Lake, repository: str, audits: AuditLog) -> list[str]:
    """Every commit ``main`` held (its first-parent chain) that is not a verified publish.

    The repository's first commit (empty, made when it was created) is the only exception.
    """
    default = lake.get_repository(repository).default_branch
    problems = []
    commit = lake.get_commit(repository, default)
    while commit.parents:
        found, _ = publish_problems(lake, repository, commit.id, audits)
        problems += found
        commit = lake.get_commit(repository, commit.parents[0])
    return problems
