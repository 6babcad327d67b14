"""The Dagster code location: it loads, its lake asset materializes against a real local lake,
its fsck check runs, and its sensor reacts to new commits on main."""

import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import (
    AssetKey,
    DagsterInstance,
    DefaultSensorStatus,
    Definitions,
    materialize,
)

from orchestration.definitions import defs
from orchestration.defs.lake.assets import (
    lake_fsck,
    lake_job,
    lake_repository,
    main_holds_only_audited_data,
)
from orchestration.resources import LakeResource
from versioning.lake.local import LocalLake
from warehouse.audits import Audit, CheckResult, audit_log
from warehouse.manifest import project_fingerprint, remember_manifest_hash
from warehouse.publish import publish

REPO_ROOT = Path(__file__).resolve().parents[2]
REPO = "contact-center"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh VOICEOPS_HOME with the local lake backend."""
    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path / "voiceops"))
    monkeypatch.setenv("VOICEOPS_LAKE_BACKEND", "local")
    monkeypatch.delenv("VOICEOPS_LAKE_REPOSITORY", raising=False)
    return tmp_path / "voiceops"


@pytest.fixture
def resource(home: Path) -> LakeResource:
    return LakeResource(home=str(home))


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with DagsterInstance.ephemeral() as inst:
        yield inst


def _publish(resource: LakeResource, branch: str, path: str, data: bytes) -> str:
    """A change reaching the protected main the only way it can: committed on ``branch``,
    audited (recorded here as the dbt step would) and published; main's new head."""
    lake, settings = resource.get_lake(), resource.settings()
    resource.ensure_repository(REPO)
    if branch not in {b.id for b in lake.list_branches(REPO)}:
        lake.create_branch(REPO, branch, "main")
    lake.upload(REPO, branch, path, data)
    head = lake.commit(REPO, branch, f"Ingest {path}").id
    manifest = "e" * 64
    remember_manifest_hash(settings, project_fingerprint(), manifest)
    audits = audit_log(settings)
    checks = [CheckResult("not_null_calls_id", "pass")]
    audits.save(Audit(REPO, branch, head, "audit_x", checks, manifest_hash=manifest))
    return publish(lake, REPO, head, audits, branch=branch, manifest_hash=manifest).commit_id


# ---- loading ----------------------------------------------------------------------------


def test_definitions_load() -> None:
    Definitions.validate_loadable(defs)
    repo = defs.get_repository_def()
    assert AssetKey(["lake", "repository"]) in repo.asset_graph.get_all_asset_keys()
    assert repo.get_job("lake_job").executor_def.name == "in_process"
    sensor = repo.get_sensor_def("retrain_on_publish_sensor")
    assert sensor.default_status == DefaultSensorStatus.STOPPED
    assert sensor.job_name == "retrain_job"
    spec = next(iter(lake_repository.specs))
    assert spec.group_name == "lake"


def test_resource_defaults_come_from_settings(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = LakeResource().settings()
    assert settings.home == home
    assert settings.lake_backend == "local"
    assert settings.lake_repository == REPO
    monkeypatch.setenv("VOICEOPS_LAKE_BACKEND", "lakefs")
    assert LakeResource().settings().lake_backend == "lakefs"
    assert LakeResource(backend="local").settings().lake_backend == "local"


def test_workspace_yaml_validates(tmp_path: Path) -> None:
    """`dagster definitions validate -w workspace.yaml` loads the code location."""
    env = os.environ | {"DAGSTER_HOME": str(tmp_path / "dagster"), "DO_NOT_TRACK": "1"}
    (tmp_path / "dagster").mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Validation successful for code location voiceops" in proc.stdout + proc.stderr


# ---- the lake asset and its check -------------------------------------------------------


def test_lake_repository_materializes_with_head_commit(
    resource: LakeResource, instance: DagsterInstance
) -> None:
    result = materialize(
        [lake_repository, lake_fsck], resources={"lake": resource}, instance=instance
    )
    assert result.success
    head = resource.head(REPO, "main")
    [mat] = result.asset_materializations_for_node("lake__repository")
    meta = {key: value.value for key, value in mat.metadata.items()}
    assert meta["repository"] == REPO
    assert meta["default_branch"] == "main"
    assert meta["head_commit_id"] == head
    assert meta["branch_count"] == 1
    assert meta["tag_count"] == 0
    assert meta["object_count"] == 0
    assert isinstance(meta["last_commit_message"], str)
    assert meta["last_commit_date"] > 0
    assert mat.tags["dagster/data_version"] == head

    [check] = result.get_asset_check_evaluations()
    assert check.check_name == "lake_fsck"
    assert check.passed
    assert check.metadata["error_count"].value == 0


def test_lake_repository_is_idempotent_and_follows_new_commits(
    resource: LakeResource, instance: DagsterInstance
) -> None:
    assert materialize([lake_repository], resources={"lake": resource}, instance=instance).success
    lake = resource.get_lake()
    first = resource.head(REPO, "main")
    assert [r.id for r in lake.list_repositories()] == [REPO]

    # Materializing again creates nothing and keeps the data version.
    result = materialize([lake_repository], resources={"lake": resource}, instance=instance)
    [mat] = result.asset_materializations_for_node("lake__repository")
    assert mat.tags["dagster/data_version"] == first
    assert resource.head(REPO, "main") == first

    lake.create_branch(REPO, "ingest-run-1", "main")
    lake.create_tag(REPO, "v1", "main")
    second = _publish(resource, "ingest-run-1", "calls/2024-01-01.jsonl", b'{"id": 1}\n')
    result = materialize([lake_repository], resources={"lake": resource}, instance=instance)
    [mat] = result.asset_materializations_for_node("lake__repository")
    meta = {key: value.value for key, value in mat.metadata.items()}
    assert mat.tags["dagster/data_version"] == second != first
    assert meta["head_commit_id"] == second
    assert meta["object_count"] == 1
    assert meta["branch_count"] == 2
    assert meta["tag_count"] == 1
    assert meta["last_commit_message"].startswith("Publish ingest-run-1")


def test_lake_fsck_fails_on_a_missing_object(
    resource: LakeResource, home: Path, instance: DagsterInstance
) -> None:
    data = b"a call transcript"
    _publish(resource, "ingest-1", "calls/a.txt", data)
    # The local backend stores objects content-addressed (file name = SHA-256 of the bytes).
    [stored] = (home / "lake").rglob(hashlib.sha256(data).hexdigest())
    stored.unlink()

    result = materialize(
        [lake_repository, lake_fsck],
        resources={"lake": resource},
        instance=instance,
        raise_on_error=False,
    )
    [check] = result.get_asset_check_evaluations()
    assert not check.passed
    assert check.metadata["error_count"].value == 1
    assert "missing" in check.metadata["errors"].value[0]


def test_lake_job_runs_in_process(home: Path, instance: DagsterInstance) -> None:
    result = defs.resolve_job_def(lake_job.name).execute_in_process(instance=instance)
    assert result.success
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks == {"lake_fsck": True, "main_holds_only_audited_data": True}


def test_a_merge_around_the_gate_fails_the_main_check(
    resource: LakeResource, home: Path, instance: DagsterInstance
) -> None:
    _publish(resource, "ingest-1", "calls/a.jsonl", b"{}\n")
    lake = resource.get_lake()
    lake.delete_branch_protection(REPO, "main")  # an admin removed the rule
    lake.create_branch(REPO, "sneaky", "main")
    lake.upload(REPO, "sneaky", "calls/b.jsonl", b"{}\n")
    LocalLake(home / "lake", fsync=False).merge(REPO, lake.commit(REPO, "sneaky", "x").id, "main")
    result = materialize(
        [lake_repository, main_holds_only_audited_data],
        resources={"lake": resource},
        instance=instance,
        raise_on_error=False,
    )
    [check] = result.get_asset_check_evaluations()
    assert not check.passed and check.metadata["unaudited_commits"].value == 1
    assert "not a publish merge" in check.metadata["problems"].value[0]


# ---- the UI -----------------------------------------------------------------------------


SHUTDOWN_LIMIT_S = 200  # dagster dev's own worst case is 2 x 60 s plus its code server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.timeout(480)
def test_dagster_dev_serves_the_code_location(tmp_path: Path) -> None:
    """`dagster dev -w workspace.yaml` (what `make ui` runs) starts, serves, stops on SIGTERM."""
    port = _free_port()
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    env = os.environ | {
        "DAGSTER_HOME": str(dagster_home),
        "VOICEOPS_HOME": str(tmp_path / "voiceops"),
        "DO_NOT_TRACK": "1",
    }
    command = [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml"]
    command += ["-h", "127.0.0.1", "-p", str(port)]
    # Own session: whatever dagster dev leaves behind can be found (and stopped) by its group.
    log = tmp_path / "dagster-dev.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # an ignored signal stays ignored across exec: if anything in this test process
            # (or the runner that started it) ignores SIGTERM or SIGINT, dagster dev and the
            # children it stops with SIGINT would too, and never exit
            preexec_fn=_default_stop_signals,
        )
    try:
        # generous limits: under a busy CPU (a demo training beside the tests) the shutdown
        # once took over 30 s; the test is about serving and exiting cleanly, not speed
        body = _wait_for_graphql(port, proc, deadline=time.monotonic() + 180)
        assert "retrain_on_publish_sensor" in body
        proc.send_signal(signal.SIGTERM)
        stopping = time.monotonic()
        try:
            # dagster dev gives its webserver and then its daemon up to 60 s each to stop
            # (dagster._cli.dev._SUBPROCESS_WAIT_TIMEOUT) before killing them, and then stops
            # the code server: a loaded machine can take over 120 s, standalone it takes seconds
            code = proc.wait(timeout=SHUTDOWN_LIMIT_S)
        except subprocess.TimeoutExpired:
            code = None
        took = time.monotonic() - stopping
        tail = log.read_text(errors="replace")[-3000:]
        assert code == 0, f"dagster dev: exit {code} {took:.0f} s after SIGTERM:\n{tail}"
        if took > 30:  # shown in the run's warnings summary: how slow, and which service
            warnings.warn(f"dagster dev took {took:.0f} s to stop:\n{tail[-800:]}", stacklevel=1)
    finally:
        _stop_group(proc)


def _default_stop_signals() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill dagster dev if still running, then give its children time to exit, then kill them."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _wait_for_graphql(port: int, proc: subprocess.Popen[bytes], deadline: float) -> str:
    """Poll until the webserver answers and its workspace lists the code location's jobs."""
    query = (
        b'{"query": "{ workspaceOrError { ... on Workspace { locationEntries { name '
        b"locationOrLoadError { ... on RepositoryLocation { repositories { name "
        b'jobs { name } sensors { name } } } } } } } }"}'
    )
    last = ""
    while time.monotonic() < deadline:
        assert proc.poll() is None, "dagster dev exited early"
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/graphql",
                data=query,
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=5) as response:
                last = response.read().decode()
            if "lake_job" in last:
                return last
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"dagster dev did not serve the code location in time: {last}")
