"""Where studies live: SQLite under ``$VOICEOPS_HOME/tuning`` by default, or any database
URL Optuna's RDB storage takes (``postgresql://user@host/db``), so that workers on several
machines share one study."""

from __future__ import annotations

import time
from pathlib import Path

import optuna
from sqlalchemy.exc import SQLAlchemyError

from core.settings import Settings

#: A worker's running trial is failed when it has not beaten for this long (a dead worker).
HEARTBEAT_S, GRACE_S = 20, 120
CREATE_ATTEMPTS = 4


def storage_url(settings: Settings, url: str | None = None) -> str:
    """``url``, or the embedded SQLite file (its directory created)."""
    if url:
        return url
    path = Path(settings.home) / "tuning" / "optuna.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def open_storage(url: str) -> optuna.storages.RDBStorage:
    """Optuna's RDB storage on ``url``, with heartbeats so a dead worker's trials fail."""
    engine: dict = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        # parallel trials write at once; SQLite's default 5 s lock wait is too short
        engine = {"connect_args": {"timeout": 60}}
    for attempt in range(CREATE_ATTEMPTS):
        try:
            return optuna.storages.RDBStorage(
                url, engine_kwargs=engine, heartbeat_interval=HEARTBEAT_S, grace_period=GRACE_S
            )
        except SQLAlchemyError:
            # two workers creating the tables of a new storage at once: one loses, then finds
            # them made
            if attempt == CREATE_ATTEMPTS - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")
