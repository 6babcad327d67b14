"""Which lake commit a schema's marts were built from, and whether that build succeeded.

Loading a commit into ``<schema>_raw`` and building the marts from it are two steps; in
between (or after a failed build) the marts still hold an older commit's data. Every dbt
build of a schema appends a row to ``<schema>_raw._builds``; readers that pin a commit
(training, reproduction) accept the marts only when the newest build succeeded and is of
the commit the schema was last loaded from.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import VoiceOpsError
from core.settings import Settings
from warehouse.connection import Warehouse, qualified
from warehouse.dbt_build import DbtBuild, dbt_build
from warehouse.load import loaded_commit
from warehouse.manifest import project_fingerprint, remember_manifest_hash
from warehouse.schemas import raw_schema

BUILDS = "_builds"
_DDL = (
    "lake_commit TEXT NOT NULL, manifest_hash TEXT NOT NULL, ok BOOLEAN NOT NULL, "
    "failed TEXT, built_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP, "
    "seq BIGINT NOT NULL"
)


class StaleMartsError(VoiceOpsError):
    """The marts of a schema are not a successful build of the commit a caller needs."""


@dataclass(frozen=True)
class BuildRecord:
    """One dbt build of a schema."""

    lake_commit: str
    manifest_hash: str
    ok: bool
    failed: str


def record_build(warehouse: Warehouse, schema: str, commit_id: str, build: DbtBuild) -> BuildRecord:
    """Append the outcome of ``build`` (of ``commit_id``) to the schema's build log."""
    table = qualified(raw_schema(schema), BUILDS)
    failed = ", ".join(c.name for c in build.checks if not c.passed)[:2000]
    record = BuildRecord(commit_id, build.manifest_hash, build.returncode == 0, failed)
    with warehouse.transaction():
        warehouse.create_schema(raw_schema(schema))
        warehouse.execute(f"CREATE TABLE IF NOT EXISTS {table} ({_DDL})")
        seq = warehouse.scalar(f"SELECT COALESCE(MAX(seq), 0) + 1 FROM {table}")
        warehouse.execute(
            f"INSERT INTO {table} (lake_commit, manifest_hash, ok, failed, seq) "
            "VALUES (?, ?, ?, ?, ?)",
            (record.lake_commit, record.manifest_hash, record.ok, record.failed, seq),
        )
    return record


def last_build(warehouse: Warehouse, schema: str) -> BuildRecord | None:
    """The newest build of ``schema`` (None if it was never built)."""
    raw = raw_schema(schema)
    if not warehouse.table_exists(raw, BUILDS):
        return None
    row = warehouse.fetchall(
        f"SELECT lake_commit, manifest_hash, ok, failed FROM {qualified(raw, BUILDS)} "
        "ORDER BY seq DESC LIMIT 1"
    )
    return BuildRecord(row[0][0], row[0][1], bool(row[0][2]), row[0][3] or "") if row else None


def current_build(warehouse: Warehouse, schema: str) -> BuildRecord:
    """The build the schema's marts are: the newest, successful, of the loaded commit."""
    loaded = loaded_commit(warehouse, schema)
    build = last_build(warehouse, schema)
    if loaded is None or build is None:
        raise StaleMartsError(f"{schema} has no built marts yet")
    if build.lake_commit != loaded:
        raise StaleMartsError(
            f"{schema} was loaded from lake commit {loaded[:12]} but its marts are a build of "
            f"{build.lake_commit[:12]}: build it again"
        )
    if not build.ok:
        raise StaleMartsError(
            f"the last dbt build of {schema} (lake commit {loaded[:12]}) failed"
            + (f": {build.failed}" if build.failed else "")
        )
    return build


def build_schema(
    settings: Settings, schema: str, commit_id: str, *, extra_vars: dict | None = None
) -> DbtBuild:
    """``dbt build`` of ``schema`` (loaded from ``commit_id``), recorded in its build log."""
    build = dbt_build(settings, schema, extra_vars=extra_vars)
    remember_manifest_hash(settings, project_fingerprint(), build.manifest_hash)
    with Warehouse.from_settings(settings) as warehouse:
        record_build(warehouse, schema, commit_id, build)
    return build
