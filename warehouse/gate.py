"""The publish gate: an ingestion branch reaches ``main`` only if every check on it passed.

An :class:`Audit` is the outcome of loading one lake commit into its own audit schema and
running ``dbt build`` there (every dbt test is a check). :func:`publish` merges the audited
branch into the default branch only when the audit is of the branch's current head and no
check failed; otherwise :class:`PublishRefused` names the failed checks and the branch stays
for inspection. Audits are kept (:class:`AuditLog`) so the lakeFS pre-merge hook can answer
for a commit that was already audited without running the checks again.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from versioning.lake import Lake, MergeResult

PASSING = {"pass", "success"}


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str  # dbt: pass | fail | error | warn | skipped
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status in PASSING


@dataclass
class Audit:
    repository: str
    ref: str
    commit_id: str
    schema: str
    checks: list[CheckResult] = field(default_factory=list)
    audited_at: float = field(default_factory=time.time)
    seconds: float = 0.0
    manifest_hash: str = ""

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]

    @property
    def ok(self) -> bool:
        return bool(self.checks) and not self.failed

    def summary(self) -> str:
        if not self.checks:
            return "no checks ran"
        if not self.failed:
            return f"all {len(self.checks)} checks passed"
        names = ", ".join(c.name for c in self.failed[:10])
        more = " ..." if len(self.failed) > 10 else ""
        return f"{len(self.failed)} of {len(self.checks)} checks failed: {names}{more}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"ok": self.ok, "summary": self.summary()}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Audit:
        fields = {k: v for k, v in data.items() if k not in {"ok", "summary"}}
        fields["checks"] = [CheckResult(**c) for c in fields.get("checks", [])]
        return Audit(**fields)


class PublishRefused(Exception):
    """The branch was not merged: a check failed, or the audit is not of its head."""


class AuditLog:
    """Audits by commit id, as JSON files (``$VOICEOPS_HOME/audits/<commit>.json``)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def save(self, audit: Audit) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{audit.commit_id}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(audit.to_dict(), indent=2, ensure_ascii=False))
        tmp.replace(path)
        return path

    def get(self, commit_id: str) -> Audit | None:
        path = self.root / f"{commit_id}.json"
        if not path.is_file():
            return None
        return Audit.from_dict(json.loads(path.read_text()))


def publish(lake: Lake, repository: str, branch: str, audit: Audit) -> MergeResult:
    """Merge ``branch`` into the default branch if ``audit`` passed on its current head."""
    head = lake.get_branch(repository, branch).commit_id
    if audit.commit_id != head:
        raise PublishRefused(
            f"publish of {branch} refused: the audit is of commit {audit.commit_id[:12]} but "
            f"the branch is at {head[:12]} (audit it again)"
        )
    if not audit.ok:
        raise PublishRefused(
            f"publish of {branch} refused: {audit.summary()} "
            f"(commit {head[:12]}, audit schema {audit.schema}; the branch stays for inspection)"
        )
    if lake.uncommitted(repository, branch):
        raise PublishRefused(f"publish of {branch} refused: it has uncommitted changes")
    default = lake.get_repository(repository).default_branch
    return lake.merge(
        repository,
        branch,
        default,
        message=f"Publish {branch}: {audit.summary()}",
        metadata={
            "voiceops.kind": "publish",
            "voiceops.published_branch": branch,
            "voiceops.audited_commit": audit.commit_id,
            "voiceops.audit_schema": audit.schema,
            "voiceops.checks_passed": str(len(audit.checks)),
            "voiceops.dbt_manifest_hash": audit.manifest_hash,
        },
        allow_fast_forward=False,
    )
