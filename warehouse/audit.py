"""Audit one lake commit: load it into its own schema, run dbt build there, record the checks."""

from __future__ import annotations

import time

from core.settings import Settings
from versioning.lake import Lake
from warehouse.audits import Audit, audit_log
from warehouse.connection import Warehouse
from warehouse.dbt_build import dbt_build
from warehouse.load import load_commit
from warehouse.manifest import project_fingerprint, remember_manifest_hash
from warehouse.schemas import audit_schema


def run_audit(
    lake: Lake,
    repository: str,
    ref: str,
    settings: Settings,
    *,
    dbt_vars: dict[str, object] | None = None,
    name: str | None = None,
) -> Audit:
    """Load ``ref``'s commit into ``audit_<ref>`` and build + test every dbt model there.

    ``dbt_vars`` override project variables (thresholds, or switches such as ``redact``):
    such an audit is recorded as relaxed and never lets the commit be published. ``name``
    names the audit schema when ``ref`` is a commit id (default: ``ref``).
    """
    started = time.monotonic()
    commit_id = lake.resolve_ref(repository, ref)
    schema = audit_schema(name or ref)
    warehouse = Warehouse.from_settings(settings)
    try:
        load_commit(lake, repository, commit_id, warehouse, schema)
    finally:
        warehouse.close()  # DuckDB: dbt needs the file to itself
    build = dbt_build(settings, schema, extra_vars=dbt_vars)
    audit = Audit(
        repository=repository,
        ref=name or ref,
        commit_id=commit_id,
        schema=schema,
        checks=build.checks,
        seconds=time.monotonic() - started,
        manifest_hash=build.manifest_hash,
        dbt_vars=dict(dbt_vars or {}),
    )
    remember_manifest_hash(settings, project_fingerprint(), build.manifest_hash)
    audit_log(settings).save(audit)
    return audit
