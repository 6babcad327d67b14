"""Audits and the audit log: what the publish gate decides from.

An :class:`Audit` is the outcome of loading one lake commit into its own audit schema and
running ``dbt build`` there (every dbt test is a check). Audits are kept by commit id
(:class:`AuditLog`); one run with non-default dbt variables (relaxed thresholds, redaction
off) is kept apart and never counts for a publish. The publish itself is
:mod:`warehouse.publish`; the rule it and the lakeFS pre-merge hook share is
:mod:`warehouse.guard`.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.errors import VoiceOpsError
from core.settings import Settings

PASSING = {"pass", "success"}
#: A full lake commit id (SHA-256 hex, as both backends make them).
COMMIT_ID = re.compile(r"^[0-9a-f]{64}$")


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
    #: dbt variables overridden for this run; any override makes the audit "relaxed"
    dbt_vars: dict[str, Any] = field(default_factory=dict)

    @property
    def strict(self) -> bool:
        """Run with the project's own variables (only such an audit can publish)."""
        return not self.dbt_vars

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
        return asdict(self) | {"ok": self.ok, "summary": self.summary(), "strict": self.strict}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Audit:
        fields = {k: v for k, v in data.items() if k not in {"ok", "summary", "strict"}}
        fields["checks"] = [CheckResult(**c) for c in fields.get("checks", [])]
        return Audit(**fields)


class PublishRefused(VoiceOpsError):
    """Nothing was merged: a check failed, the audit is not of what would land, or main moved."""


def validate_commit_id(commit_id: object) -> str:
    """``commit_id`` if it is a full commit id (64 hex digits), else ``ValueError``."""
    if not isinstance(commit_id, str) or not COMMIT_ID.match(commit_id):
        raise ValueError(f"invalid lake commit id {commit_id!r}: expected 64 hex digits")
    return commit_id


class AuditLog:
    """Audits by commit id, as JSON files.

    ``<root>/<commit>.json`` holds the strict audit of a commit (the project's own dbt
    variables); ``<root>/relaxed/<commit>-<vars hash>.json`` the runs with overridden
    variables, which :meth:`get` never returns.
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    def path_for(self, audit: Audit) -> Path:
        commit = validate_commit_id(audit.commit_id)
        if audit.strict:
            return self.root / f"{commit}.json"
        digest = hashlib.sha256(json.dumps(audit.dbt_vars, sort_keys=True).encode()).hexdigest()
        return self.root / "relaxed" / f"{commit}-{digest[:12]}.json"

    def save(self, audit: Audit) -> Path:
        path = self.path_for(audit)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(audit.to_dict(), indent=2, ensure_ascii=False))
        tmp.replace(path)
        return path

    def get(self, commit_id: str) -> Audit | None:
        """The strict audit of ``commit_id`` (a full commit id), None if there is none."""
        path = self.root / f"{validate_commit_id(commit_id)}.json"
        if not path.is_file():
            return None
        audit = Audit.from_dict(json.loads(path.read_text()))
        if audit.commit_id != commit_id or not audit.strict:
            raise ValueError(f"audit file {path} does not hold the strict audit of {commit_id}")
        return audit

    def audits(self) -> list[Audit]:
        """Every strict audit kept, oldest first (by when it ran)."""
        found = [Audit.from_dict(json.loads(p.read_text())) for p in self.root.glob("*.json")]
        return sorted(found, key=lambda audit: audit.audited_at)


def audit_log(settings: Settings) -> AuditLog:
    """The platform's audit log: ``$VOICEOPS_HOME/audits``."""
    return AuditLog(settings.home / "audits")
