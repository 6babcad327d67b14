"""The publish gate on lakeFS, with a fake lakeFS standing in for the server.

The fake lakeFS (tests/fakes/fake_lakefs.py) protects main and, on every merge, runs the
pre-merge action that ``lakefs/_lakefs_actions/pre-merge-audit.yaml`` defines; the action
calls the VoiceOps hook (``warehouse/hook.py``), which verifies the merge against the audit
log. ``LakeFSLake`` is the client. Its own merge check passes everything here, so every
refusal below comes from the server side (lakeFS's protection or the hook), as it would for
``lakectl merge``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.settings import Settings
from tests.fakes.fake_lakefs import FAKE_STORAGE_NAMESPACE, fake_client, run_fake_lakefs
from versioning.lake import MergeRequest, MergeVetoedError, ProtectedBranchError
from versioning.lake.lakefs_backend import LakeFSLake
from warehouse.audits import Audit, AuditLog, CheckResult, audit_log
from warehouse.guard import AUDITED_COMMIT, KIND, PUBLISH
from warehouse.hook import (
    PATH,
    SECRET_ENV,
    SECRET_HEADER,
    action_yaml,
    hook_verifier,
    running_hook_server,
)
from warehouse.manifest import project_fingerprint, remember_manifest_hash
from warehouse.publish import publish

REPO = "contact-center"
SECRET = "e2e-hook-secret"
MANIFEST = "manifest-of-the-project-on-disk"
ACTION_PATH = "_lakefs_actions/pre-merge-audit.yaml"
CHECKS = ("not_null_stg_calls_call_id", "unique_nlu_examples_id", "no_pii_nlu_examples")


def let_the_server_decide(request: MergeRequest) -> None:
    """A client-side check that lets every merge through to the server.

    ``LakeFSLake`` with no check at all refuses merges into a protected branch itself (the
    lake contract); this one hands the decision to lakeFS's pre-merge hook instead.
    """


@dataclass
class World:
    lake: LakeFSLake
    settings: Settings
    audits: AuditLog
    hook_url: str


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv(SECRET_ENV, SECRET)  # the (fake) lakeFS server's environment
    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path / "home"))  # publish's trail goes there
    settings = Settings(home=tmp_path / "home", hook_secret=SecretStr(SECRET))
    remember_manifest_hash(settings, project_fingerprint(), MANIFEST)  # no dbt parse needed
    with run_fake_lakefs(tmp_path / "lakefs") as endpoint:
        lake = LakeFSLake(
            fake_client(endpoint),
            storage_namespace=FAKE_STORAGE_NAMESPACE,
            merge_checks=(let_the_server_decide,),
        )
        verifier = hook_verifier(settings, LakeFSLake(fake_client(endpoint)))
        with running_hook_server(verifier, SECRET) as hook_url:
            lake.create_repository(REPO)
            lake.upload(REPO, "main", ACTION_PATH, action_yaml(hook_url + PATH).encode())
            lake.commit(REPO, "main", "Install the VoiceOps publish gate")
            lake.add_branch_protection(REPO, "main")
            yield World(lake, settings, audit_log(settings), hook_url)


def ingest(world: World, branch: str, day: int) -> str:
    """A branch from main with one day of data committed; its head commit."""
    world.lake.create_branch(REPO, branch, "main")
    path = f"raw/call_exports/calls/dt=2026-01-{day:02d}/part-00000.parquet"
    world.lake.upload(REPO, branch, path, f"day {day}".encode())
    return world.lake.commit(REPO, branch, f"ingest day {day}").id


def record_passing_audit(world: World, branch: str, commit: str) -> Audit:
    checks = [CheckResult(name, "pass") for name in CHECKS]
    audit = Audit(REPO, branch, commit, f"audit_{branch}", checks, manifest_hash=MANIFEST)
    world.audits.save(audit)
    return audit


def publish_metadata(commit: str) -> dict[str, str]:
    return {KIND: PUBLISH, AUDITED_COMMIT: commit}


def post_event(hook_url: str, event: dict, headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        hook_url + PATH, data=json.dumps(event).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as err:
        return err.code


def test_the_committed_action_file_is_the_rendered_one() -> None:
    committed = Path(__file__).resolve().parents[2] / "lakefs" / ACTION_PATH
    assert committed.read_text() == action_yaml()
    assert f"{{{{ ENV.{SECRET_ENV} }}}}" in committed.read_text()


def test_a_direct_commit_to_protected_main_is_refused_by_lakefs(world: World) -> None:
    head = world.lake.get_branch(REPO, "main").commit_id
    with pytest.raises(ProtectedBranchError):
        world.lake.commit(REPO, "main", "a direct change", allow_empty=True)
    with pytest.raises(ProtectedBranchError):
        world.lake.upload(REPO, "main", "raw/sneaked-in.parquet", b"x")
    assert world.lake.get_branch(REPO, "main").commit_id == head


def test_merging_an_unaudited_commit_is_refused_by_the_hook(world: World) -> None:
    head = world.lake.get_branch(REPO, "main").commit_id
    commit = ingest(world, "ingest-20260101-run1", 1)
    with pytest.raises(MergeVetoedError, match=r"voiceops_publish_gate.*status code: 412"):
        world.lake.merge(REPO, commit, "main", metadata=publish_metadata(commit))
    with pytest.raises(MergeVetoedError, match="status code: 412"):  # like `lakectl merge`
        world.lake.merge(REPO, "ingest-20260101-run1", "main")
    assert world.lake.get_branch(REPO, "main").commit_id == head


def test_the_hook_answers_only_requests_with_the_secret(world: World) -> None:
    commit = ingest(world, "ingest-20260101-run1", 1)
    record_passing_audit(world, "ingest-20260101-run1", commit)
    event = {
        "event_type": "pre-merge",
        "repository_id": REPO,
        "branch_id": "main",
        "source_ref": commit,
        "commit_metadata": publish_metadata(commit),
    }
    assert post_event(world.hook_url, event, {}) == 401
    assert post_event(world.hook_url, event, {SECRET_HEADER: "guessed"}) == 401
    assert post_event(world.hook_url, event, {SECRET_HEADER: SECRET}) == 200


def test_a_secret_lakefs_does_not_pass_to_actions_leaves_merges_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lakeFS gives actions only variables named ``LAKEFSACTION_*`` (``actions.env.prefix``);
    any other name evaluates to "", the hook answers 401 and the merge is refused."""
    monkeypatch.setenv("LAKEFSACTIONS_VOICEOPS_HOOK_SECRET", SECRET)
    branch = "ingest-20260101-run1"
    world.lake.create_branch(REPO, branch, "main")
    action = action_yaml(world.hook_url + PATH).replace(
        SECRET_ENV, "LAKEFSACTIONS_VOICEOPS_HOOK_SECRET"
    )
    world.lake.upload(REPO, branch, ACTION_PATH, action.encode())
    commit = world.lake.commit(REPO, branch, "an action reading another variable").id
    record_passing_audit(world, branch, commit)
    with pytest.raises(MergeVetoedError, match="status code: 401"):
        world.lake.merge(REPO, commit, "main", metadata=publish_metadata(commit))


def test_an_audited_commit_published_with_its_metadata_goes_through(world: World) -> None:
    branch = "ingest-20260101-run1"
    commit = ingest(world, branch, 1)
    record_passing_audit(world, branch, commit)
    result = publish(world.lake, REPO, commit, world.audits, branch=branch, manifest_hash=MANIFEST)
    main = world.lake.get_commit(REPO, "main")
    assert result.commit_id == main.id and main.parents[1] == commit
    assert main.metadata[AUDITED_COMMIT] == commit
    assert world.lake.diff(REPO, commit, "main") == []  # exactly the audited content


def test_an_audited_commit_is_refused_after_main_moved_on(world: World) -> None:
    first, second = "ingest-20260101-run1", "ingest-20260102-run1"
    first_commit, second_commit = ingest(world, first, 1), ingest(world, second, 2)
    record_passing_audit(world, first, first_commit)
    record_passing_audit(world, second, second_commit)  # audited before main moved
    publish(world.lake, REPO, first_commit, world.audits, branch=first, manifest_hash=MANIFEST)
    moved = world.lake.get_branch(REPO, "main").commit_id
    with pytest.raises(MergeVetoedError, match="status code: 412"):
        world.lake.merge(REPO, second_commit, "main", metadata=publish_metadata(second_commit))
    assert world.lake.get_branch(REPO, "main").commit_id == moved
    assert not world.lake.exists(
        REPO, "main", "raw/call_exports/calls/dt=2026-01-02/part-00000.parquet"
    )


def test_known_limit_a_source_without_the_action_file_skips_the_hook(world: World) -> None:
    """lakeFS reads pre-merge actions from the merge source: deleting them there un-gates the
    merge. lakefs/README.md says how to close this (RBAC: only VoiceOps merges into main)."""
    branch = "ingest-no-gate"
    world.lake.create_branch(REPO, branch, "main")
    world.lake.delete_object(REPO, branch, ACTION_PATH)
    world.lake.upload(REPO, branch, "raw/unaudited.parquet", b"x")
    world.lake.commit(REPO, branch, "drop the action and add data")
    world.lake.merge(REPO, branch, "main")
    assert world.lake.exists(REPO, "main", "raw/unaudited.parquet")
