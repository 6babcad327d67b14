"""The gate's verdicts, append-only, beside the alias history (not as MLflow tags).

A model version's tags can be edited by anyone with write access to the tracking store;
promotion must not trust them. Each registration appends one row here: the verdict, every
rule's outcome, the lake commit and marts manifest the lineage was verified against, and the
SHA-256 of the artifact the gate smoke-tested. ``promote`` and ``load_model`` read this row,
re-verify the lineage by walking the lake, and re-hash the artifact they are about to use.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from registry.history import METADATA, current_user, store_engine

TABLE = "voiceops_gate_verdicts"
verdicts_table = sa.Table(
    TABLE,
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("model", sa.String(256), nullable=False, index=True),
    sa.Column("version", sa.String(32), nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("rules", sa.Text, nullable=False),  # JSON list of {rule, passed, reason, ...}
    sa.Column("lake_repository", sa.String(256), nullable=False),
    sa.Column("lake_commit", sa.String(64), nullable=False),
    sa.Column("marts_manifest_hash", sa.String(64), nullable=False),
    sa.Column("artifact_sha256", sa.String(64), nullable=False),
    sa.Column("policy_sha256", sa.String(64), nullable=False),
    sa.Column("user", sa.String(128), nullable=False),
    # the champion it was compared with, and whether the paired bootstrap found it better
    sa.Column("champion_compared", sa.String(32), nullable=True),
    sa.Column("beats_champion", sa.Boolean, nullable=True),
)


@dataclass(frozen=True)
class RecordedVerdict:
    """One row: what the gate decided about a version, and on what evidence."""

    model: str
    version: str
    passed: bool
    rules: list[dict[str, Any]]
    lake_repository: str
    lake_commit: str
    marts_manifest_hash: str
    artifact_sha256: str
    policy_sha256: str
    at: float
    user: str
    champion_compared: str | None = None
    beats_champion: bool | None = None

    @property
    def failed_rules(self) -> list[dict[str, Any]]:
        return [r for r in self.rules if not r["passed"]]


def artifact_digest(root: Path) -> str:
    """SHA-256 over every file of a model directory (relative paths and bytes, sorted)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        with path.open("rb") as file:
            while chunk := file.read(1 << 20):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


class VerdictStore:
    """The verdicts table of one backend database (``sqlite:///...`` or ``postgresql://...``)."""

    def __init__(self, url: str):
        self.engine = store_engine(url)
        verdicts_table.create(self.engine, checkfirst=True)

    def record(self, verdict: RecordedVerdict) -> None:
        row = {
            "at": verdict.at,
            "model": verdict.model,
            "version": verdict.version,
            "passed": verdict.passed,
            "rules": json.dumps(verdict.rules, ensure_ascii=False),
            "lake_repository": verdict.lake_repository,
            "lake_commit": verdict.lake_commit,
            "marts_manifest_hash": verdict.marts_manifest_hash,
            "artifact_sha256": verdict.artifact_sha256,
            "policy_sha256": verdict.policy_sha256,
            "user": verdict.user,
            "champion_compared": verdict.champion_compared,
            "beats_champion": verdict.beats_champion,
        }
        with self.engine.begin() as connection:
            connection.execute(verdicts_table.insert().values(**row))

    def latest(self, model: str, version: str) -> RecordedVerdict | None:
        """The newest verdict on ``model`` v``version`` (None: it never went through the gate)."""
        query = (
            sa.select(verdicts_table)
            .where(verdicts_table.c.model == model, verdicts_table.c.version == str(version))
            .order_by(verdicts_table.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        if row is None:
            return None
        fields = {k: v for k, v in row.items() if k not in {"id", "rules"}}
        return RecordedVerdict(**fields, rules=json.loads(row["rules"]))

    def counts(self) -> dict[tuple[str, bool], int]:
        """How many verdicts each model got, by ``(model, passed)``."""
        query = sa.select(
            verdicts_table.c.model, verdicts_table.c.passed, sa.func.count()
        ).group_by(verdicts_table.c.model, verdicts_table.c.passed)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return {(model, bool(passed)): int(count) for model, passed, count in rows}


def new_verdict(
    model: str, version: str, passed: bool, rules: list[dict], **evidence: Any
) -> RecordedVerdict:
    """A verdict made now by the current user."""
    return RecordedVerdict(
        model=model,
        version=str(version),
        passed=passed,
        rules=rules,
        at=time.time(),
        user=current_user(),
        **evidence,
    )
