"""The lifecycle of experiments: status, canary stage, decisions, and every transition.

An experiment is ``draft`` until started, then ``running`` (it takes traffic within its
dates), ``stopped`` (by hand, or a canary halted by a guardrail) or ``decided`` (a decision
was recorded; nothing more happens to it). A stopped experiment may be started again; a
decided one may not.

The state lives in SQLite at ``<home>/experiments/state.sqlite3`` (WAL: the serving API's
routers read while the CLI and Dagster write), or in Postgres when ``settings.events_url`` is
a ``postgresql://`` URL. Two tables: the current state per key, and the append-only
transitions (when, who, action, from -> to status, stage, reason).

Starting checks the registry: every version an arm names must exist and be servable.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa

from core.errors import VoiceOpsError
from core.settings import Settings
from experiments.spec import ExperimentSpec, SpecsDirs, load_specs, spec_dirs

Status = Literal["draft", "running", "stopped", "decided"]

METADATA = sa.MetaData()
state_table = sa.Table(
    "voiceops_experiment_state",
    METADATA,
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("stage", sa.Integer, nullable=False, default=0),
    #: when the current stage (or the run, at stage 0) began, epoch seconds
    sa.Column("stage_started_at", sa.Float, nullable=True),
    sa.Column("started_at", sa.Float, nullable=True),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("reason", sa.Text, nullable=False, default=""),
)
transitions_table = sa.Table(
    "voiceops_experiment_transitions",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(128), nullable=False, index=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("from_status", sa.String(16), nullable=False),
    sa.Column("to_status", sa.String(16), nullable=False),
    sa.Column("stage", sa.Integer, nullable=False),
    sa.Column("user", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, default=""),
)


class ExperimentStateError(VoiceOpsError):
    """A transition the lifecycle does not allow, or an arm the registry cannot serve."""


@dataclass(frozen=True)
class ExperimentState:
    """Where one experiment is now (``draft`` with no time for one never started)."""

    key: str
    status: Status = "draft"
    stage: int = 0
    stage_started_at: float | None = None
    started_at: float | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Transition:
    """One row of an experiment's history."""

    key: str
    at: float
    action: str
    from_status: str
    to_status: str
    stage: int
    user: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def state_url(settings: Settings) -> str:
    """Postgres when ``events_url`` is one, else SQLite under the home."""
    events_url = str(getattr(settings, "events_url", "") or "")
    if events_url.startswith("postgresql://"):
        return events_url
    path = Path(settings.home) / "experiments" / "state.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


@lru_cache(maxsize=8)
def state_engine(url: str) -> sa.Engine:
    engine = sa.create_engine(url, pool_pre_ping=True)
    if url.startswith("sqlite"):

        @sa.event.listens_for(engine, "connect")
        def _wal(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

    METADATA.create_all(engine, checkfirst=True)
    return engine


def _epoch(now: datetime | None) -> float:
    """Epoch seconds of ``now`` (a naive time is UTC, as the events' times are)."""
    now = now or datetime.now(UTC)
    return (now if now.tzinfo else now.replace(tzinfo=UTC)).timestamp()


class StateStore:
    """The experiments' lifecycle in the state database of ``settings``."""

    def __init__(self, settings: Settings, specs_dir: SpecsDirs | None = None) -> None:
        """``specs_dir``: where the specs are (default: the reviewed and the generated ones)."""
        self.settings = settings
        self.specs_dirs = spec_dirs(settings, specs_dir)
        self.engine = state_engine(state_url(settings))

    # ---- reading ---------------------------------------------------------------------------
    def get(self, key: str) -> ExperimentState:
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(state_table).where(state_table.c.key == key)).first()
        return _state(row) if row else ExperimentState(key)

    def all(self) -> dict[str, ExperimentState]:
        """Every experiment that ever left ``draft``, by key (one query)."""
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(state_table)).all()
        return {row.key: _state(row) for row in rows}

    def history(self, key: str) -> list[Transition]:
        """Every transition of ``key``, oldest first."""
        query = (
            sa.select(transitions_table)
            .where(transitions_table.c.key == key)
            .order_by(transitions_table.c.id)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            Transition(r.key, r.at, r.action, r.from_status, r.to_status, r.stage, r.user, r.reason)
            for r in rows
        ]

    def spec(self, key: str) -> ExperimentSpec:
        specs = load_specs(self.specs_dirs)
        if key not in specs:
            known = ", ".join(specs) or "none"
            where = " or ".join(str(d) for d in self.specs_dirs)
            raise ExperimentStateError(f"no experiment {key!r} in {where} (known: {known})")
        return specs[key]

    # ---- transitions -----------------------------------------------------------------------
    def start(
        self, key: str, now: datetime | None = None, *, check_registry: bool = True
    ) -> ExperimentState:
        """``draft``/``stopped`` -> ``running`` (at rollout stage 0); every arm's versions must
        be registered and servable, and ``now`` before the spec's stop date."""
        spec = self.spec(key)
        current = self.get(key)
        if current.status not in ("draft", "stopped"):
            raise ExperimentStateError(f"experiment {key} is {current.status}: it cannot start")
        day = (now or datetime.now(UTC)).date()
        if day >= spec.stop:
            raise ExperimentStateError(f"experiment {key} ended on {spec.stop}: it cannot start")
        if check_registry:
            check_arms_servable(self.settings, spec)
        at = _epoch(now)
        return self._move(key, "start", "running", 0, f"started at {day}", at, started_at=at)

    def stop(self, key: str, reason: str = "", *, action: str = "stop") -> ExperimentState:
        """``running`` -> ``stopped``: it takes no more traffic."""
        current = self.get(key)
        if current.status != "running":
            raise ExperimentStateError(f"experiment {key} is {current.status}, not running")
        return self._move(key, action, "stopped", current.stage, reason or "stopped")

    def set_stage(
        self, key: str, stage: int, reason: str, now: datetime | None = None
    ) -> ExperimentState:
        """A running canary's rollout stage (its candidate's share) moves to ``stage``."""
        current = self.get(key)
        if current.status != "running":
            raise ExperimentStateError(f"experiment {key} is {current.status}, not running")
        return self._move(key, "advance", "running", stage, reason, _epoch(now))

    def record_decision(self, key: str, reason: str) -> ExperimentState:
        """``running``/``stopped`` -> ``decided`` with the decision's reason."""
        current = self.get(key)
        if current.status not in ("running", "stopped"):
            raise ExperimentStateError(f"experiment {key} is {current.status}: nothing to decide")
        return self._move(key, "decide", "decided", current.stage, reason)

    def note(self, key: str, action: str, reason: str) -> None:
        """A history row that changes nothing (a decision without a winner, a held canary)."""
        current = self.get(key)
        self._append(key, action, current.status, current.status, current.stage, reason)

    def _append(
        self,
        key: str,
        action: str,
        old: str,
        new: str,
        stage: int,
        reason: str,
        at: float | None = None,
    ) -> None:
        from registry.history import current_user

        with self.engine.begin() as connection:
            connection.execute(
                transitions_table.insert().values(
                    key=key,
                    at=at or time.time(),
                    action=action,
                    from_status=old,
                    to_status=new,
                    stage=stage,
                    user=current_user(),
                    reason=reason,
                )
            )

    def _move(
        self,
        key: str,
        action: str,
        status: Status,
        stage: int,
        reason: str,
        stage_started_at: float | None = None,
        started_at: float | None = None,
    ) -> ExperimentState:
        current = self.get(key)
        values = {
            "status": status,
            "stage": stage,
            "stage_started_at": stage_started_at or current.stage_started_at,
            "started_at": started_at or current.started_at,
            "updated_at": time.time(),
            "reason": reason,
        }
        with self.engine.begin() as connection:
            updated = connection.execute(
                state_table.update().where(state_table.c.key == key).values(**values)
            )
            if updated.rowcount == 0:
                connection.execute(state_table.insert().values(key=key, **values))
        self._append(key, action, current.status, status, stage, reason, stage_started_at)
        return self.get(key)


def _state(row: Any) -> ExperimentState:
    return ExperimentState(
        row.key, row.status, row.stage, row.stage_started_at, row.started_at, row.reason
    )


def check_arms_servable(settings: Settings, spec: ExperimentSpec) -> None:
    """Every version of every arm exists in the registry and may be served; otherwise one
    error naming the arm, the family and the version."""
    from registry.aliases import require_servable
    from registry.tracking import client
    from registry.versions import get_version
    from training.families import family

    mlflow = client(settings)
    for arm, versions in spec.arms.items():
        for family_name, version in versions.items():
            try:
                found = get_version(mlflow, family(family_name).model_name, str(version))
                require_servable(settings, found)
            except VoiceOpsError as error:
                raise ExperimentStateError(
                    f"experiment {spec.key}: arm {arm!r} cannot be served: "
                    f"{family_name} v{version}: {error}"
                ) from None
