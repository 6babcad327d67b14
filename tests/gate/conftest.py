"""The attack suite's world: the pipeline's repository on the embedded lake, ``main``
protected as the pipeline creates it, opened the way the platform opens it (with the publish
gate's merge check), and an audit log. No dbt here: audits are recorded as dbt would record
them, so each test tries one way around the gate in milliseconds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.settings import Settings
from tests.registry.conftest import (  # noqa: F401 - the registry's tiny models and world
    nlu_good,
    nlu_rows,
    nlu_untrained,
    sqlite_world,
)
from versioning.lake import Lake
from versioning.lake.local import LocalLake
from versioning.lake.repositories import ensure_repository
from warehouse.audits import Audit, AuditLog, CheckResult, audit_log
from warehouse.guard import audit_merge_check
from warehouse.manifest import project_fingerprint, remember_manifest_hash

REPO = "contact-center"
#: The manifest hash the world's dbt project has (seeded into the cache: no dbt parse).
MANIFEST = "a" * 64


@dataclass
class GateWorld:
    settings: Settings
    lake: Lake
    audits: AuditLog

    def main(self) -> str:
        return self.lake.get_branch(REPO, "main").commit_id

    def ingest(self, branch: str, files: dict[str, bytes], source: str = "main") -> str:
        """A branch from ``source`` with ``files`` committed on it; its head."""
        self.lake.create_branch(REPO, branch, source)
        self.lake.upload_many(REPO, branch, files.items())
        return self.lake.commit(REPO, branch, f"ingest {branch}").id

    def audit(
        self, commit: str, *statuses: str, manifest: str = MANIFEST, dbt_vars: dict | None = None
    ) -> Audit:
        """Record an audit of ``commit`` with one check per status, as the dbt step would."""
        checks = [CheckResult(f"check_{i}", status) for i, status in enumerate(statuses)]
        audit = Audit(
            REPO, "ingest", commit, "audit_x", checks, manifest_hash=manifest,
            dbt_vars=dbt_vars or {},
        )  # fmt: skip
        self.audits.save(audit)
        return audit


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GateWorld:
    home = tmp_path / "home"
    monkeypatch.setenv("VOICEOPS_HOME", str(home))
    monkeypatch.setenv("VOICEOPS_LAKE_FSYNC", "false")
    settings = Settings()
    remember_manifest_hash(settings, project_fingerprint(), MANIFEST)
    audits = audit_log(settings)
    manifest: Callable[[], str] = lambda: MANIFEST  # noqa: E731
    lake = LocalLake(
        settings.lake_root, fsync=False, merge_checks=[audit_merge_check(audits, manifest)]
    )
    ensure_repository(lake, REPO)
    return GateWorld(settings, lake, audits)
