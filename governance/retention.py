"""Retention: remove what each layer has kept longer than the policy allows.

One function per layer, each returning what it removed (or would remove, ``dry_run``):

* ``audit_schemas``: warehouse ``audit_*`` schemas (and their layers) whose newest audit is
  older than the policy; a schema with no audit record is reported, never dropped (an
  audit may be loading it right now);
* ``ingest_branches``: lake ``ingest-*`` branches whose head commit is older (a published
  branch's commits stay on ``main``; a refused one's objects go at the next lake GC);
* ``events``: experiment events, except those of experiments still running;
* ``connector_logs``: embedded Airbyte log files.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.settings import Settings
from governance.policy import RetentionPolicy

DAY_S = 86_400.0


@dataclass(frozen=True)
class Removal:
    """Things past their retention: the layer, a name, how old, how many (events)."""

    layer: str
    name: str
    age_days: float
    detail: str = ""
    count: int = 1


@dataclass
class RetentionReport:
    """What a retention pass removed (or would, in a dry run), and what it kept and why."""

    dry_run: bool
    policy: dict[str, float]
    removed: list[Removal] = field(default_factory=list)
    kept: list[Removal] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        found = dict.fromkeys(self.policy, 0)
        for removal in self.removed:
            found[removal.layer] += removal.count
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "policy_days": self.policy,
            "counts": self.counts(),
            "removed": [asdict(item) for item in self.removed],
            "kept": [asdict(item) for item in self.kept],
        }


def enforce(
    settings: Settings,
    policy: RetentionPolicy | None = None,
    *,
    now: float | None = None,
    dry_run: bool = False,
) -> RetentionReport:
    """Apply ``policy`` to every layer at time ``now`` (epoch seconds)."""
    policy = policy or RetentionPolicy.load(settings.retention_policy)
    now = time.time() if now is None else now
    report = RetentionReport(dry_run, asdict(policy))
    audit_schemas(settings, now - policy.audit_schemas * DAY_S, now, dry_run, report)
    ingest_branches(settings, now - policy.ingest_branches * DAY_S, now, dry_run, report)
    events(settings, now - policy.events * DAY_S, now, dry_run, report)
    connector_logs(settings, now - policy.connector_logs * DAY_S, now, dry_run, report)
    return report


def _age(now: float, moment: float) -> float:
    return round((now - moment) / DAY_S, 2)


def audit_schemas(
    settings: Settings, cutoff: float, now: float, dry_run: bool, report: RetentionReport
) -> None:
    from warehouse.audits import audit_log
    from warehouse.connection import connect
    from warehouse.schemas import AUDIT_PREFIX, LAYERS, all_schemas

    newest: dict[str, float] = {}
    for audit in audit_log(settings).audits():
        newest[audit.schema] = max(newest.get(audit.schema, 0.0), audit.audited_at)
    warehouse = connect(settings)
    try:
        present = warehouse.list_schemas(f"{AUDIT_PREFIX}%")
        suffixes = tuple(f"_{layer}" for layer in LAYERS)
        bases = {name for name in present if name in newest or not name.endswith(suffixes)}
        for schema in sorted(bases):
            if schema not in newest:
                report.kept.append(Removal("audit_schemas", schema, 0.0, "no audit record"))
            elif newest[schema] < cutoff:
                dropped = [name for name in all_schemas(schema) if name in present]
                if not dry_run:
                    for name in dropped:
                        warehouse.drop_schema(name)
                age = _age(now, newest[schema])
                report.removed.append(
                    Removal("audit_schemas", schema, age, f"{len(dropped)} schemas")
                )
    finally:
        warehouse.close()


def ingest_branches(
    settings: Settings, cutoff: float, now: float, dry_run: bool, report: RetentionReport
) -> None:
    from versioning.lake import open_lake

    lake = open_lake(settings)
    repository = settings.lake_repository
    if repository not in {repo.id for repo in lake.list_repositories()}:
        return
    for branch in lake.list_branches(repository):
        if not branch.id.startswith("ingest-"):
            continue
        created = lake.get_commit(repository, branch.commit_id).creation_date
        if created < cutoff:
            if not dry_run:
                lake.delete_branch(repository, branch.id)
            report.removed.append(
                Removal("ingest_branches", branch.id, _age(now, created), branch.commit_id[:12])
            )


def events(
    settings: Settings, cutoff: float, now: float, dry_run: bool, report: RetentionReport
) -> None:
    from experiments.event_store import EventStore
    from experiments.state import StateStore

    running = sorted(
        key for key, state in StateStore(settings).all().items() if state.status == "running"
    )
    before = datetime.fromtimestamp(cutoff, UTC)
    with EventStore.from_settings(settings) as store:
        count = store.prune(before, running, dry_run=dry_run)
    if count:
        kept = f"; kept those of running {', '.join(running)}" if running else ""
        detail = f"before {before:%F}{kept}"
        report.removed.append(
            Removal("events", f"{count} events", _age(now, cutoff), detail, count)
        )


def connector_logs(
    settings: Settings, cutoff: float, now: float, dry_run: bool, report: RetentionReport
) -> None:
    root: Path = settings.home / "airbyte" / "logs"
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.stat().st_mtime < cutoff:
            age = _age(now, path.stat().st_mtime)
            if not dry_run:
                path.unlink()
            report.removed.append(Removal("connector_logs", str(path.relative_to(root)), age))
