"""The compose stack against the project's settings: every VOICEOPS_* variable a container
gets is a setting, every container gets the engines it needs, each environment validates as
the Settings the code will read, and .env.example lists exactly the settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from core.settings import Settings
from serving.options import ServingOptions
from tests.deploy.compose_env import (
    COMPOSE_DIR,
    REPO_ROOT,
    THIRD_PARTY_CONTAINER_ENV,
    THIRD_PARTY_ENV_EXAMPLE,
    compose,
    env_example,
    environment,
    field_env_names,
    primary_settings_env_names,
    serving_env_names,
    settings_env_names,
    voiceops_services,
)

#: The engines a multi-container deployment must name: unset, each falls back to an embedded
#: store inside one container (a SQLite file, a local lake) that the others never see.
ENGINES = {
    "VOICEOPS_HOME",
    "VOICEOPS_LAKE_BACKEND",
    "VOICEOPS_LAKEFS_STORAGE_NAMESPACE",
    "LAKECTL_SERVER_ENDPOINT_URL",
    "LAKECTL_CREDENTIALS_ACCESS_KEY_ID",
    "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY",
    "DBT_TARGET",
    "VOICEOPS_PG_HOST",
    "VOICEOPS_PG_USER",
    "VOICEOPS_PG_PASSWORD",
    "VOICEOPS_PG_DATABASE",
    "MLFLOW_TRACKING_URI",
    "VOICEOPS_MLFLOW_ARTIFACT_ROOT",
    "MLFLOW_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "VOICEOPS_EVENTS_URL",
    "VOICEOPS_ACCESS_URL",
    "VOICEOPS_TRAIL_URL",
    "VOICEOPS_TRAIL_KEY",
    "VOICEOPS_PSEUDONYM_KEY",
    "VOICEOPS_PUSHGATEWAY_URL",
    "VOICEOPS_QDRANT_URL",
    "VOICEOPS_AUTH",
}
DAGSTER_INSTANCE = {"DAGSTER_HOME", "DAGSTER_PG_HOST", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD"}
S3_CLIENT = {"MLFLOW_S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
#: What each service built from our images needs (the platform's engines, the Dagster
#: instance, the hook's secret).
NEEDS = {
    "serving": ENGINES,
    "voiceops-hook": ENGINES | {"VOICEOPS_HOOK_SECRET"},
    "dagster-code-location": ENGINES | DAGSTER_INSTANCE | {"DAGSTER_PG_DB"},
    "dagster-webserver": DAGSTER_INSTANCE | {"DAGSTER_PG_DB"},
    "dagster-daemon": DAGSTER_INSTANCE | {"DAGSTER_PG_DB"},
    "mlflow": S3_CLIENT,
    "minio-init": S3_CLIENT,
}


def test_every_service_of_our_images_is_known():
    assert set(voiceops_services()) == set(NEEDS)


@pytest.mark.parametrize("name", sorted(NEEDS))
def test_no_unknown_variable(name):
    known = settings_env_names() | serving_env_names() | THIRD_PARTY_CONTAINER_ENV
    unknown = set(environment(voiceops_services()[name])) - known
    assert not unknown, f"{name} gets variables no setting reads: {sorted(unknown)}"


@pytest.mark.parametrize("name", sorted(NEEDS))
def test_no_missing_variable(name):
    env = environment(voiceops_services()[name])
    missing = NEEDS[name] - set(env)
    assert not missing, f"{name} lacks {sorted(missing)}"
    empty = sorted(key for key in NEEDS[name] if not env[key])
    assert not empty, f"{name} gets these empty: {empty}"


@pytest.mark.parametrize("name", ["serving", "voiceops-hook", "dagster-code-location"])
def test_each_environment_validates_as_settings(name, monkeypatch):
    """The Settings the container will read: valid, and on the production engines."""
    for key in [*settings_env_names(), *serving_env_names()]:
        monkeypatch.delenv(key, raising=False)
    env = environment(voiceops_services()[name])
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    ServingOptions()
    assert settings.lake_backend == "lakefs"
    assert settings.dbt_target == "postgres"
    assert settings.auth == "required"
    assert settings.tracking_uri.startswith("postgresql://")
    assert settings.artifact_root.startswith("s3://")
    for location in (settings.events_location, settings.access_location, settings.trail_location):
        assert location.startswith("postgresql://"), location
    assert settings.home == Path("/var/lib/voiceops")


def test_servers_beyond_loopback_require_auth():
    """`voiceops serve` refuses a non-loopback host without VOICEOPS_AUTH=required."""
    for name in ("serving", "voiceops-hook"):
        service = voiceops_services()[name]
        assert environment(service)["VOICEOPS_AUTH"] == "required"
    assert "0.0.0.0" in compose()["services"]["serving"]["command"]


def test_env_example_lists_exactly_the_settings():
    """Settings and ServingOptions (the README table's VOICEOPS_SERVING_* row), VOICEOPS_USER
    (its row too), and the documented third-party variables."""
    listed = set(env_example())
    settings = primary_settings_env_names() | serving_env_names() | {"VOICEOPS_USER"}
    assert not settings - listed, f"missing from .env.example: {sorted(settings - listed)}"
    extra = listed - settings - THIRD_PARTY_ENV_EXAMPLE
    assert not extra, f".env.example lists unknown variables: {sorted(extra)}"


def test_env_example_holds_placeholders_only():
    secrets = {
        names[0]
        for field_name, names in field_env_names(Settings).items()
        if "SecretStr" in str(Settings.model_fields[field_name].annotation)
    } | {n for n in THIRD_PARTY_ENV_EXAMPLE if re.search("PASSWORD|SECRET", n)}
    for name, value in env_example().items():
        if name in secrets and value:
            assert value == "change-me", f"{name}: a placeholder, not a value"


def test_every_compose_variable_is_in_env_example():
    """Nothing the compose file interpolates is undocumented."""
    lines = (COMPOSE_DIR / "docker-compose.yml").read_text(encoding="utf-8").splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    used = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", text))
    assert not used - set(env_example()), sorted(used - set(env_example()))


def test_third_party_images_are_pinned():
    for name, service in compose()["services"].items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: {image} is not pinned"
        if image.startswith("voiceops/"):
            assert service.get("build", {}).get("target") == repository.split("/")[1], name


def test_bind_mounts_exist_and_monitoring_is_mounted_not_copied():
    mounted = set()
    for name, service in compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                path = (COMPOSE_DIR / source).resolve()
                assert path.exists(), f"{name}: {source} does not exist"
                mounted.add(path.relative_to(REPO_ROOT).as_posix())
    for original in (
        "monitoring/prometheus/rules",
        "monitoring/alertmanager/alertmanager.yml",
        "monitoring/grafana/dashboards",
        "monitoring/grafana/provisioning/dashboards/voiceops.yml",
    ):
        assert original in mounted, original


def test_compose_prometheus_matches_the_original():
    """deploy/compose/monitoring/prometheus.yml differs from monitoring's only in targets."""
    ours = yaml.safe_load((COMPOSE_DIR / "monitoring" / "prometheus.yml").read_text())
    original = yaml.safe_load((REPO_ROOT / "monitoring/prometheus/prometheus.yml").read_text())
    assert ours["rule_files"] == original["rule_files"]
    assert ours["global"] == original["global"]
    jobs = {job["job_name"]: job for job in ours["scrape_configs"]}
    original_jobs = {job["job_name"]: job for job in original["scrape_configs"]}
    assert set(jobs) == set(original_jobs)
    services = compose()["services"]
    for job in jobs.values():
        for target in job["static_configs"][0]["targets"]:
            assert target.split(":")[0] in services, target
    grafana = yaml.safe_load((COMPOSE_DIR / "monitoring" / "grafana-datasource.yml").read_text())
    original_ds = yaml.safe_load(
        (REPO_ROOT / "monitoring/grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    assert grafana["datasources"][0]["uid"] == original_ds["datasources"][0]["uid"]


def test_every_postgres_url_names_a_created_database():
    services = compose()["services"]
    created = set(services["postgres"]["environment"]["VOICEOPS_DATABASES"].split())
    text = yaml.safe_dump(services)
    named = set(re.findall(r"postgres(?:ql)?://[^@\s]+@postgres:5432/(\w+)", text))
    named |= {environment(services["dagster-code-location"])["DAGSTER_PG_DB"]}
    named |= {environment(services["serving"])["VOICEOPS_PG_DATABASE"]}
    assert named <= created, sorted(named - created)


def test_env_example_values_validate_as_settings(monkeypatch):
    """Copied to .env as it is, every active line parses as its setting's type."""
    for key in settings_env_names():
        monkeypatch.delenv(key, raising=False)
    for name, value in env_example().items():
        if value is not None and name in settings_env_names():
            monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.lake_repository == "contact-center"


def test_lakefs_sends_the_hook_its_secret():
    """The action file reads the secret from lakeFS's environment (warehouse.hook.SECRET_ENV)."""
    from warehouse.hook import SECRET_ENV

    services = compose()["services"]
    lakefs = environment(services["lakefs"])
    hook = environment(services["voiceops-hook"])
    assert lakefs[SECRET_ENV] == hook["VOICEOPS_HOOK_SECRET"] != ""
