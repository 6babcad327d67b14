"""Run the code location's jobs in-process on the persistent Dagster instance.

The CLI, the demo and the tests start pipeline runs through these functions, so the runs show
in the Dagster UI (``make ui`` reads the same instance).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.settings import Settings
from ingestion import lake_landing
from ingestion.simulator import layout
from versioning.lake import Commit, Lake


@dataclass(frozen=True)
class IngestionOutcome:
    day: int
    run_id: str
    branch: str
    commit: Commit

    def count(self, prefix: str) -> dict[str, int]:
        """``records.*`` or ``quarantined.*`` counts of the commit, keyed by source.stream."""
        return {
            key[len(prefix) + 1 :]: int(value)
            for key, value in self.commit.metadata.items()
            if key.startswith(prefix + ".")
        }


def _telemetry_overrides(config: str) -> dict[str, Any]:
    """Dagster telemetry off unless ``dagster.yaml`` says otherwise.

    With telemetry on, the first run of a fresh instance prints Dagster's telemetry banner and
    "Welcome to Dagster!"; these machines have no network anyway. ``telemetry:`` in
    ``$DAGSTER_HOME/dagster.yaml`` (its documented opt-out / opt-in) wins.
    """
    import yaml

    with open(config, encoding="utf-8") as file:
        configured = yaml.safe_load(file) or {}
    return {} if "telemetry" in configured else {"telemetry": {"enabled": False}}


def dagster_instance():
    """A persistent Dagster instance: ``DAGSTER_HOME``, else ``$VOICEOPS_HOME/dagster``.

    Runs then show in the UI, and assets see their history (e.g. models not retrained when
    nothing changed). The config file is left as it is (``make ui`` reads the same one).
    """
    from dagster import DagsterInstance

    home = os.environ.get("DAGSTER_HOME") or str(Settings().home / "dagster")
    os.makedirs(home, exist_ok=True)
    config = os.path.join(home, "dagster.yaml")
    if not os.path.exists(config):
        open(config, "a").close()  # an empty config: default SQLite storage, no warning
    return DagsterInstance.local_temp(tempdir=home, overrides=_telemetry_overrides(config))


def quiet_run_config(log_level: str = "WARNING", ops: dict[str, Any] | None = None) -> dict:
    """Run config keeping Dagster's console logger at ``log_level``; per-op config in ``ops``."""
    config: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    if ops:
        config["ops"] = ops
    return config


def ingest_day(day: int, lake: Lake, repository: str) -> IngestionOutcome:
    """Ingest simulation day ``day`` (``ingest_day_job``, or ``land_day_job`` when an Airbyte
    server does the syncs); returns its lake commit."""
    from orchestration.definitions import definitions_for

    defs = definitions_for(Settings())

    partition = layout.day_date(day).isoformat()
    names = {job.name for job in defs.jobs or []}
    job = defs.resolve_job_def("land_day_job" if "land_day_job" in names else "ingest_day_job")
    result = job.execute_in_process(
        partition_key=partition,
        instance=dagster_instance(),
        run_config=quiet_run_config(),
        raise_on_error=False,
    )
    if not result.success:
        raise RuntimeError(f"ingestion of day {day} ({partition}) failed (run {result.run_id})")
    branch = lake_landing.ingest_branch_name(result.run_id, date.fromisoformat(partition))
    return IngestionOutcome(day, result.run_id, branch, lake.get_commit(repository, branch))


@dataclass(frozen=True)
class PublishOutcome:
    run_id: str
    success: bool
    branch: str
    commit_id: str
    summary: str
    failed_checks: list[str]
    published_commit: str | None
    failure: str = ""  # the failed step's message (a refusal names the failed checks)
    failed_messages: dict[str, str] = field(default_factory=dict)  # failed check -> dbt's message


def failure_message(event: Any) -> str:
    """A failed step's message: a raised ``dagster.Failure``'s description (e.g. a refused
    publish), else the error as Dagster recorded it (exception class included)."""
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description.strip()
    return data.error.message.strip() if data.error is not None else ""


def audit_run_config(echo_dbt_log: bool, branch: str = "") -> dict[str, Any]:
    """Run config of ``audit_publish_job`` as the CLI runs it.

    A refused publish is an outcome, not a crash: the step failure is returned in
    ``failure`` (and kept in the run's event log) instead of printed as a traceback.
    """
    return quiet_run_config(
        "CRITICAL",
        ops={
            "voiceops_dbt": {"config": {"echo_dbt_log": echo_dbt_log}},
            "warehouse_raw": {"config": {"branch": branch}},
        },
    )


def audit_and_publish(*, echo_dbt_log: bool = True, branch: str = "") -> PublishOutcome:
    """Run ``audit_publish_job``: load the newest unpublished branch (or ``branch``), audit
    what publishing it would land on main, publish it if every check passed.

    ``echo_dbt_log=False``: dbt's node-by-node log stays off stdout (the failed checks and
    their messages are in the outcome either way).
    """
    from orchestration.definitions import definitions_for
    from warehouse.audits import audit_log

    settings = Settings()
    job = definitions_for(settings).resolve_job_def("audit_publish_job")
    result = job.execute_in_process(
        instance=dagster_instance(),
        run_config=audit_run_config(echo_dbt_log, branch),
        raise_on_error=False,
    )
    failures = [failure_message(event) for event in result.get_step_failure_events()]
    raw = result.asset_materializations_for_node("warehouse_raw")
    if not raw:
        raise RuntimeError(f"audit run {result.run_id} loaded nothing (no unpublished branch?)")
    meta = raw[0].metadata
    branch, commit_id = meta["branch"].value, meta["commit_id"].value
    audit = audit_log(settings).get(commit_id)
    published = result.asset_materializations_for_node("lake__published")
    return PublishOutcome(
        run_id=result.run_id,
        success=result.success,
        branch=branch,
        commit_id=commit_id,
        summary=audit.summary() if audit else "no audit recorded",
        failed_checks=[c.name for c in audit.failed] if audit else [],
        published_commit=published[0].metadata["published_commit"].value if published else None,
        failure=failures[0] if failures else "",
        failed_messages={c.name: c.message for c in audit.failed} if audit else {},
    )


def train_models(size: str = "demo", families: tuple[str, ...] | None = None) -> dict[str, dict]:
    """Run ``train_models_job`` (every family, or ``families``); metadata per family."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
    from orchestration.definitions import definitions_for

    defs = definitions_for(Settings())
    from orchestration.defs.training.assets import model_key
    from training.families import FAMILIES

    chosen = tuple(families or FAMILIES)
    unknown = sorted(set(chosen) - set(FAMILIES))
    if unknown:
        raise ValueError(f"unknown model families {unknown}; known: {sorted(FAMILIES)}")
    job = defs.resolve_job_def("train_models_job")
    config = quiet_run_config(
        ops={f"models__{family}": {"config": {"size": size}} for family in chosen}
    )
    result = job.execute_in_process(
        instance=dagster_instance(),
        run_config=config,
        raise_on_error=False,
        asset_selection=[model_key(f) for f in chosen],
    )
    if not result.success:
        raise RuntimeError(f"training run {result.run_id} failed")
    models = {}
    for family in chosen:
        events = result.asset_materializations_for_node(f"models__{family}")
        models[family] = {k: v.value for k, v in events[0].metadata.items()} if events else {}
    return models
