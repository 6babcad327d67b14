"""The MLflow client for the configured store, and one experiment per family."""

from __future__ import annotations

import logging
import os
from functools import lru_cache

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from core.settings import Settings

EXPERIMENT_PREFIX = "voicebot-"


def prepare_store(settings: Settings) -> str:
    """The tracking URI, with the embedded SQLite directory created when that is the store."""
    uri = settings.tracking_uri
    if uri.startswith("sqlite:///"):
        (settings.home / "mlflow").mkdir(parents=True, exist_ok=True)
    return uri


@lru_cache(maxsize=8)
def _client(uri: str) -> MlflowClient:
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def client(settings: Settings) -> MlflowClient:
    """One client per store (creating the SQLite schema on first use)."""
    return _client(prepare_store(settings))


def experiment_id(mlflow: MlflowClient, settings: Settings, family: str) -> str:
    """The experiment ``voicebot-<family>``, created with the configured artifact root."""
    name = f"{EXPERIMENT_PREFIX}{family}"
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    try:
        return mlflow.create_experiment(name, artifact_location=f"{settings.artifact_root}/{name}")
    except MlflowException:  # created by another process in between
        return mlflow.get_experiment_by_name(name).experiment_id


def history_url(settings: Settings) -> str:
    """Where the alias history lives: the tracking database itself when it is one."""
    uri = prepare_store(settings)
    if uri.startswith(("http://", "https://", "databricks")):
        (settings.home / "mlflow").mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{settings.home / 'mlflow' / 'alias_history.db'}"
    return uri
