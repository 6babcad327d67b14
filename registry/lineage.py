"""Where a model version came from: lake commit, audit, ingestion runs, data, code.

Collected once at registration (the lake may later be garbage-collected) and kept with the
version: flat ``lineage.*`` tags and the whole tree as the run artifact ``lineage.json``.

The lake part is *verified*, not read from metadata (:func:`lineage_problems`): the commit
must be reachable from ``main``, be a publish merge whose second parent is the audited commit
and whose content is exactly that commit's, and the audit must be a strict, passing one made
by the same dbt project that built the marts the model trained on.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from training.common.lineage import rows_hash, split_counts
from versioning.lake import Lake, LakeError
from warehouse.audits import AuditLog
from warehouse.guard import AUDITED_COMMIT
from warehouse.verify import publish_problems

PROJECT_DIR = Path(__file__).resolve().parents[1]
INGEST_KIND = "ingestion"
__all__ = ["code_revision", "lake_lineage", "rows_hash", "split_counts", "split_rows"]


def split_rows(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    return [r for r in rows if r.get("split") == split]


def code_revision() -> str:
    """``git`` HEAD of the project (``+dirty`` with uncommitted changes), or ``unknown``."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}+dirty" if dirty else head


def _run_sources(lake: Lake, repository: str, ref: str, run_id: str) -> list[dict[str, Any]]:
    """What one ingestion run landed per source/stream (its ``_ingest/runs/<run>/`` files)."""
    sources = []
    for stat in lake.list_objects(repository, ref, f"_ingest/runs/{run_id}/"):
        path = getattr(stat, "path", "")
        if not path.endswith(".json"):
            continue
        data = json.loads(lake.read_bytes(repository, ref, path))
        sources.append(
            {
                "source": data.get("source", ""),
                "stream": data.get("stream", ""),
                "records": data.get("records", 0),
                "quarantined": data.get("quarantined", 0),
                "connector": "==".join(
                    x for x in (data.get("connector"), data.get("connector_version")) if x
                ),
                "manifest": path,
            }
        )
    return sources


def ingestion_runs(lake: Lake, repository: str, commit: str, depth: int = 500) -> list[dict]:
    """Every ingestion commit reachable from ``commit``, oldest first, with its sources."""
    runs = []
    for entry in lake.log(repository, commit, amount=depth):
        meta = entry.metadata
        if meta.get("voiceops.kind") != INGEST_KIND:
            continue
        run_id = meta.get("voiceops.run_id", "")
        runs.append(
            {
                "run_id": run_id,
                "date": meta.get("voiceops.date", ""),
                "commit": entry.id,
                "sources": _run_sources(lake, repository, entry.id, run_id),
            }
        )
    return sorted(runs, key=lambda r: (r["date"], r["run_id"]))


def lineage_problems(
    lake: Lake, repository: str, commit: str, audits: AuditLog, marts_manifest_hash: str
) -> list[str]:
    """Why ``commit`` is not a verified publish of audited data whose dbt project also built
    the model's marts (empty: it is)."""
    try:
        default = lake.get_repository(repository).default_branch
        if not lake.is_ancestor(repository, commit, default):
            return [f"lake commit {commit[:12]} is not in the history of {default}"]
    except LakeError as error:
        return [f"lake commit {commit[:12]} cannot be read: {error}"]
    problems, audit = publish_problems(lake, repository, commit, audits)
    if problems or audit is None:
        return problems
    if not marts_manifest_hash:
        return ["the training run did not record the dbt manifest of its marts"]
    if audit.manifest_hash != marts_manifest_hash:
        return [
            f"the marts were built by dbt project {marts_manifest_hash[:12]}, the audit ran "
            f"{audit.manifest_hash[:12] or 'none'}"
        ]
    return []


def lake_lineage(
    lake: Lake, repository: str, commit: str, audits: AuditLog, marts_manifest_hash: str = ""
) -> dict[str, Any]:
    """The commit, the audit that let it be published (checks, dbt manifest), its ingestion
    runs, and whether all of it was verified by walking the lake."""
    problems = lineage_problems(lake, repository, commit, audits, marts_manifest_hash)
    try:
        entry = lake.get_commit(repository, commit)
    except LakeError:
        return {"repository": repository, "commit": commit, "verified": False,
                "problems": problems, "audited_commit": "", "dbt_manifest_hash": "",
                "checks_passed": [], "checks_failed": [], "ingestion_runs": []}  # fmt: skip
    audited = entry.metadata.get(AUDITED_COMMIT, "")
    try:
        audit = audits.get(audited) if audited else None
    except ValueError:
        audit = None
    return {
        "repository": repository,
        "commit": entry.id,
        "commit_message": entry.message,
        "audited_commit": audited,
        "verified": not problems,
        "problems": problems,
        "dbt_manifest_hash": audit.manifest_hash if audit else "",
        "marts_manifest_hash": marts_manifest_hash,
        "checks_passed": sorted(c.name for c in audit.checks if c.passed) if audit else [],
        "checks_failed": sorted(c.name for c in audit.failed) if audit else [],
        "ingestion_runs": ingestion_runs(lake, repository, entry.id),
    }
