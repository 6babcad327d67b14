"""The compose stack as the tests read it: services, their environment after interpolation
from ``.env.example``, and the variables the project's settings classes read."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from core.settings import Settings
from serving.options import ServingOptions

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = REPO_ROOT / "deploy" / "compose"
COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
DOCKERFILE = REPO_ROOT / "deploy" / "docker" / "Dockerfile"

#: Third-party variables the README documents or the stack's own services need, allowed in
#: ``.env.example`` beside the settings.
THIRD_PARTY_ENV_EXAMPLE = {
    "LAKECTL_SERVER_ENDPOINT_URL",
    "LAKECTL_CREDENTIALS_ACCESS_KEY_ID",
    "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY",
    "DAGSTER_HOME",
    "MINIO_ROOT_USER",
    "MINIO_ROOT_PASSWORD",
    "LAKEFS_AUTH_ENCRYPT_SECRET_KEY",
    "GRAFANA_ADMIN_PASSWORD",
    "IMAGE_TAG",
}
#: Third-party variables a VoiceOps container may get: the lakectl client, MLflow's S3
#: client (boto3), the Dagster instance (deploy/compose/dagster/dagster.yaml).
THIRD_PARTY_CONTAINER_ENV = {
    "LAKECTL_SERVER_ENDPOINT_URL",
    "LAKECTL_CREDENTIALS_ACCESS_KEY_ID",
    "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY",
    "MLFLOW_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "DAGSTER_HOME",
    "DAGSTER_PG_HOST",
    "DAGSTER_PG_USER",
    "DAGSTER_PG_PASSWORD",
    "DAGSTER_PG_DB",
}

_VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def field_env_names(settings_class: type[BaseSettings]) -> dict[str, list[str]]:
    """Each field's environment names, the one it prefers first."""
    prefix = settings_class.model_config.get("env_prefix", "")
    names = {}
    for field_name, field in settings_class.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, str):
            names[field_name] = [alias]
        elif isinstance(alias, AliasChoices):
            names[field_name] = [choice for choice in alias.choices if isinstance(choice, str)]
            names[field_name] = [name for name in names[field_name] if name.isupper()]
        else:
            names[field_name] = [f"{prefix}{field_name}".upper()]
    return names


def settings_env_names() -> set[str]:
    """Every variable :class:`core.settings.Settings` reads (aliases included)."""
    return {name for names in field_env_names(Settings).values() for name in names}


def primary_settings_env_names() -> set[str]:
    """One variable per setting: the one the README table and ``.env.example`` name."""
    return {names[0] for names in field_env_names(Settings).values()}


def serving_env_names() -> set[str]:
    return {name for names in field_env_names(ServingOptions).values() for name in names}


def env_example() -> dict[str, str | None]:
    """``.env.example``'s variables: value of an active line, ``None`` for a documented one
    the compose stack fixes (``# NAME=... (compose...)``)."""
    found: dict[str, str | None] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if match := re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line):
            found[match[1]] = match[2]
        elif match := re.match(r"#\s*([A-Z][A-Z0-9_]*)=", line):
            found.setdefault(match[1], None)
    return found


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's ``${NAME}``, ``${NAME:-default}``, ``${NAME:?error}`` and ``$$``."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        current = env.get(name)
        if op in (":-", "-") and (current is None or (op == ":-" and current == "")):
            return arg
        if op in (":?", "?") and (current is None or (op == ":?" and current == "")):
            raise KeyError(f"{name}: {arg}")
        return current or ""

    return _VARIABLE.sub(replace, value).replace("$$", "$")


@cache
def compose() -> dict[str, Any]:
    """The compose file, YAML anchors and merges resolved, interpolated from .env.example."""
    raw = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    values = {name: value for name, value in env_example().items() if value is not None}
    return interpolate(raw, values)


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def voiceops_services() -> dict[str, dict[str, Any]]:
    """The services that run one of our images (built from deploy/docker/Dockerfile)."""
    return {
        name: service
        for name, service in compose()["services"].items()
        if str(service.get("image", "")).startswith("voiceops/")
    }
