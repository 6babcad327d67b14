"""CI/CD as code (.github/): the workflow passes GitHub's workflow schema (vendored in
check-jsonschema) and actionlint where it is installed, runs the make stages, pushes every
image of the Dockerfile by sha and version, and promotes an overlay by pull request; the
promotion edit (.github/scripts/promote_overlay.py) on the real overlays."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
OVERLAYS = ROOT / "deploy" / "k8s" / "overlays"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def _promote_module() -> Any:
    path = ROOT / ".github" / "scripts" / "promote_overlay.py"
    spec = importlib.util.spec_from_file_location("promote_overlay", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_workflows_pass_githubs_workflow_schema() -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    if not checker.exists():
        pytest.skip("check-jsonschema is not installed (the dev extra has it)")
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_pass_actionlint_where_installed() -> None:
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed (the schema test checks the workflow here)")
    result = subprocess.run(
        [actionlint, str(WORKFLOW)], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_stages_are_the_make_targets(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    assert "make lint" in _runs(jobs["lint"])
    assert "make test" in _runs(jobs["test"])
    assert "make manifests" in _runs(jobs["manifests"])
    makefile = (ROOT / "Makefile").read_text()
    for target in ("lint", "test", "images", "manifests", "deploy-check"):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), f"make {target} is missing"
    # .ci/run stays the machine's entry point, on make test
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_tests_run_with_a_postgres_service(workflow: dict[str, Any]) -> None:
    test = workflow["jobs"]["test"]
    postgres = test["services"]["postgres"]
    assert postgres["image"].startswith("postgres:")
    assert "5432:5432" in postgres["ports"]
    assert postgres["env"]["POSTGRES_HOST_AUTH_METHOD"] == "trust"  # as tests/postgres.py
    assert test["env"]["VOICEOPS_PG_USER"] == "postgres"


def test_every_image_is_pushed_by_sha_and_version(workflow: dict[str, Any]) -> None:
    images = workflow["jobs"]["images"]
    dockerfile = (ROOT / "deploy" / "docker" / "Dockerfile").read_text()
    targets = set(re.findall(r"^FROM \S+ AS (\S+)$", dockerfile, re.MULTILINE))
    assert set(images["strategy"]["matrix"]["target"]) == targets - {"builder", "runtime"}
    build = next(s for s in images["steps"] if s.get("uses", "").startswith("docker/build-push"))
    tags = [tag.strip() for tag in build["with"]["tags"].splitlines() if tag.strip()]
    assert any(tag.endswith(":${{ github.sha }}") for tag in tags)
    assert any(tag.endswith(":${{ needs.version.outputs.version }}") for tag in tags)
    assert build["with"]["push"] == "${{ github.event_name == 'push' }}"
    assert images["permissions"]["packages"] == "write"
    assert set(images["needs"]) >= {"lint", "test", "manifests"}


def test_promotion_is_a_pull_request(workflow: dict[str, Any]) -> None:
    promote = workflow["jobs"]["promote"]
    assert "promote_overlay.py" in _runs(promote)
    assert any("create-pull-request" in step.get("uses", "") for step in promote["steps"])
    assert promote["permissions"] == {"contents": "write", "pull-requests": "write"}
    # the workflow's default token is read-only; only the jobs that need more ask for it
    assert workflow["permissions"] == {"contents": "read"}


def test_actions_are_pinned_to_a_major_version(workflow: dict[str, Any]) -> None:
    uses = [s["uses"] for job in workflow["jobs"].values() for s in job["steps"] if "uses" in s]
    assert uses
    for action in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", action), action


@pytest.mark.parametrize("overlay", sorted(p.name for p in OVERLAYS.iterdir() if p.is_dir()))
def test_promotion_moves_the_canary_track_then_stable(overlay: str) -> None:
    promote = _promote_module().promote
    text = (OVERLAYS / overlay / "kustomization.yaml").read_text()
    registry = "ghcr.io/example"

    def images(document: str) -> dict[str, dict[str, str]]:
        return {image["name"]: image for image in yaml.safe_load(document)["images"]}

    canary = promote(text, "abc1234", registry)
    before, after = images(text), images(canary)
    assert after["voiceops/serving"] == before["voiceops/serving"]  # stable keeps serving
    candidate = after["voiceops/serving-candidate"]
    assert candidate == {
        "name": "voiceops/serving-candidate",
        "newName": f"{registry}/voiceops/serving",
        "newTag": "abc1234",
    }
    for name in set(after) - {"voiceops/serving", "voiceops/serving-candidate"}:
        assert after[name]["newName"] == f"{registry}/{name}"
        assert after[name]["newTag"] == "abc1234"
    stable = promote(canary, "abc1234", registry, track="stable")
    assert images(stable)["voiceops/serving"]["newTag"] == "abc1234"
    assert promote(stable, "abc1234", registry, track="stable") == stable  # idempotent
    # a text edit: every comment and every other line stays
    kept = [line for line in text.splitlines() if "newTag" not in line and "newName" not in line]
    assert [line for line in stable.splitlines() if line in kept] == kept
    assert yaml.safe_load(stable)["resources"] == yaml.safe_load(text)["resources"]


def test_promotion_refuses_an_overlay_without_images(tmp_path: Path) -> None:
    module = _promote_module()
    with pytest.raises(ValueError, match="no image"):
        module.promote("resources:\n  - ../../base\n", "abc1234")
    with pytest.raises(ValueError, match="unknown track"):
        module.promote("images: []\n", "abc1234", track="blue")
    (tmp_path / "kustomization.yaml").write_text("resources: []\n")
    assert module.main([str(tmp_path), "--tag", "abc1234"]) == 1
