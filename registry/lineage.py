"""Where a model version came from: lake commit, audit, ingestion runs, data, code.

Collected once at registration (the lake may later be garbage-collected) and kept with the
version: flat ``lineage.*`` tags and the whole tree as the run artifact ``lineage.json``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from training.common.lineage import rows_hash, split_counts
from versioning.lake import Lake
from warehouse.gate import AuditLog

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


def lake_lineage(lake: Lake, repository: str, commit: str, audits: AuditLog) -> dict[str, Any]:
    """The commit, the audit that let it be published (checks, dbt manifest) and its runs."""
    entry = lake.get_commit(repository, commit)
    audited = entry.metadata.get("voiceops.audited_commit", entry.id)
    audit = audits.get(audited) or audits.get(entry.id)
    return {
        "repository": repository,
        "commit": entry.id,
        "commit_message": entry.message,
        "audited_commit": audited,
        "audit_found": audit is not None,
        "audit_ok": bool(audit and audit.ok),
        "dbt_manifest_hash": entry.metadata.get("voiceops.dbt_manifest_hash")
        or (audit.manifest_hash if audit else ""),
        "checks_passed": sorted(c.name for c in audit.checks if c.passed) if audit else [],
        "checks_failed": sorted(c.name for c in audit.failed) if audit else [],
        "ingestion_runs": ingestion_runs(lake, repository, entry.id),
    }
