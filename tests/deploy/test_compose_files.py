"""The compose stack's files checked by their own tools, offline: `docker-compose config`
(Debian's docker-compose 1.29), Dagster's instance and workspace schemas, promtool."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from tests.deploy.compose_env import (
    COMPOSE_DIR,
    COMPOSE_FILE,
    DOCKERFILE,
    ENV_EXAMPLE,
    REPO_ROOT,
)


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian package {package}, installed by make setup)")
    return path


def test_docker_compose_config_accepts_the_stack():
    docker_compose = _tool("docker-compose", "docker-compose")
    result = subprocess.run(
        [docker_compose, "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE_FILE), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rendered = yaml.safe_load(result.stdout)
    assert rendered["services"]["serving"]["environment"]["VOICEOPS_AUTH"] == "required"
    assert "WARNING" not in result.stderr, result.stderr


def test_docker_compose_refuses_a_missing_secret(tmp_path):
    """Without .env the required secrets stop the stack before anything starts."""
    docker_compose = _tool("docker-compose", "docker-compose")
    empty = tmp_path / "empty.env"
    empty.write_text("")
    env = {key: value for key, value in os.environ.items() if key not in _secrets()}
    result = subprocess.run(
        [docker_compose, "--env-file", str(empty), "-f", str(COMPOSE_FILE), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode != 0
    assert "set in .env" in result.stderr


def _secrets() -> set[str]:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    return {line.split("${")[1].split(":?")[0] for line in text.splitlines() if ":?" in line}


def test_dagster_instance_config_validates(monkeypatch):
    from dagster._core.instance.config import dagster_instance_config

    for name in ("DAGSTER_PG_HOST", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"):
        monkeypatch.setenv(name, "x")
    config, _ = dagster_instance_config(str(COMPOSE_DIR / "dagster"))
    assert set(config["storage"]) == {"postgres"}
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"


def test_dagster_workspace_points_at_the_code_location():
    from dagster._core.workspace.config_schema import ensure_workspace_config

    path = COMPOSE_DIR / "dagster" / "workspace.yaml"
    workspace = yaml.safe_load(path.read_text())
    ensure_workspace_config(workspace, str(path))
    (server,) = [entry["grpc_server"] for entry in workspace["load_from"]]
    assert server["host"] in yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    # the port the dagster image's code server listens on
    assert f'"-p", "{server["port"]}"' in DOCKERFILE.read_text()
    local = yaml.safe_load((REPO_ROOT / "workspace.yaml").read_text())
    assert server["location_name"] == local["load_from"][0]["python_module"]["location_name"]


def test_promtool_checks_the_compose_prometheus_config(tmp_path):
    """The compose config with monitoring/'s rules beside it, as mounted in the container."""
    promtool = _tool("promtool", "prometheus")
    shutil.copy(COMPOSE_DIR / "monitoring" / "prometheus.yml", tmp_path / "prometheus.yml")
    (tmp_path / "rules").symlink_to(REPO_ROOT / "monitoring" / "prometheus" / "rules")
    result = subprocess.run(
        [promtool, "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr
