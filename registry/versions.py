"""Look-ups on the MLflow registry: versions, aliases, tags, with the registry's own errors."""

from __future__ import annotations

import json
from typing import Any

from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from registry.errors import RegistryError

CHAMPION = "champion"
CHALLENGER = "challenger"
ALIASES = (CHAMPION, CHALLENGER)


def _missing(error: MlflowException) -> bool:
    return error.error_code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "INVALID_PARAMETER_VALUE")


def registered(mlflow: MlflowClient, model: str) -> bool:
    try:
        mlflow.get_registered_model(model)
    except MlflowException as error:
        if _missing(error):
            return False
        raise
    return True


def ensure_registered(mlflow: MlflowClient, model: str, description: str = "") -> None:
    if not registered(mlflow, model):
        try:
            mlflow.create_registered_model(model, description=description)
        except MlflowException as error:  # created by another process in between
            if error.error_code != "RESOURCE_ALREADY_EXISTS":
                raise


def aliases(mlflow: MlflowClient, model: str) -> dict[str, str]:
    """alias -> version of ``model`` ({} when nothing is registered)."""
    if not registered(mlflow, model):
        return {}
    return {k: str(v) for k, v in mlflow.get_registered_model(model).aliases.items()}


def by_alias(mlflow: MlflowClient, model: str, alias: str) -> ModelVersion | None:
    """The version ``alias`` points to, or None when the alias is not set."""
    version = aliases(mlflow, model).get(alias)
    return None if version is None else mlflow.get_model_version(model, version)


def get_version(mlflow: MlflowClient, model: str, version: str) -> ModelVersion:
    """Version ``version`` of ``model`` or a clear error."""
    if not str(version).isdigit():
        raise RegistryError(f"{version!r} is not a version number of {model}")
    try:
        return mlflow.get_model_version(model, str(version))
    except MlflowException as error:
        if not _missing(error):
            raise
    if not registered(mlflow, model):
        raise RegistryError(f"no version of {model} is registered yet")
    raise RegistryError(f"{model} has no version {version}")


def resolve_ref(mlflow: MlflowClient, model: str, ref: str) -> ModelVersion:
    """``"3"``, ``"@champion"`` / ``"champion"`` (an alias) -> the model version.

    One registry query when the reference exists; the error path asks more to explain.
    """
    ref = ref.lstrip("@:")
    if ref.isdigit():
        return get_version(mlflow, model, ref)
    try:
        return mlflow.get_model_version_by_alias(model, ref)
    except MlflowException as error:
        if not _missing(error):
            raise
    if not registered(mlflow, model):
        raise RegistryError(f"no version of {model} is registered yet")
    known = aliases(mlflow, model)
    hint = ", ".join(f"@{a}=v{v}" for a, v in sorted(known.items())) or "none set"
    raise RegistryError(f"{model} has no alias {ref!r} (aliases: {hint})")


def all_versions(mlflow: MlflowClient, model: str) -> list[ModelVersion]:
    """Every version of ``model``, oldest first."""
    if not registered(mlflow, model):
        return []
    found = mlflow.search_model_versions(f"name = '{model}'", max_results=10000)
    return sorted(found, key=lambda v: int(v.version))


def tag_json(version: ModelVersion, key: str, default: Any = None) -> Any:
    value = version.tags.get(key)
    return default if value in (None, "") else json.loads(value)
