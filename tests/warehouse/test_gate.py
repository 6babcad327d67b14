"""The publish gate and the lakeFS pre-merge webhook, on a real local lake and audit log."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from versioning.lake.local import LocalLake
from voiceops.settings import Settings
from warehouse.audit import audit_for_hook, audit_log
from warehouse.gate import Audit, CheckResult, PublishRefused, publish
from warehouse.hook import running_hook_server

REPO = "contact-center"
BRANCH = "ingest-20260101-run1"


@pytest.fixture
def lake(tmp_path: Path) -> LocalLake:
    lake = LocalLake(tmp_path / "lake", fsync=False)
    lake.create_repository(REPO)
    lake.create_branch(REPO, BRANCH, "main")
    lake.upload(REPO, BRANCH, "raw/call_exports/calls/dt=2026-01-01/part-00000.parquet", b"x")
    lake.commit(REPO, BRANCH, "ingest day 1")
    return lake


def _audit(lake: LocalLake, *statuses: str) -> Audit:
    head = lake.get_branch(REPO, BRANCH).commit_id
    checks = [CheckResult(f"check_{i}", status) for i, status in enumerate(statuses)]
    return Audit(REPO, BRANCH, head, "audit_ingest_20260101_run1", checks, manifest_hash="m1")


def test_publish_merges_a_clean_audit_with_a_merge_commit_recording_it(lake: LocalLake) -> None:
    audit = _audit(lake, "pass", "pass")
    result = publish(lake, REPO, BRANCH, audit)
    main = lake.get_commit(REPO, "main")
    assert result.commit_id == main.id and not result.fast_forward
    assert main.parents[1] == audit.commit_id
    assert main.metadata["voiceops.audited_commit"] == audit.commit_id
    assert main.metadata["voiceops.checks_passed"] == "2"
    assert main.metadata["voiceops.dbt_manifest_hash"] == "m1"


def test_publish_refuses_failed_checks_naming_them_and_leaves_main(lake: LocalLake) -> None:
    before = lake.get_branch(REPO, "main").commit_id
    audit = _audit(lake, "pass", "fail", "error")
    with pytest.raises(PublishRefused, match=r"2 of 3 checks failed: check_1, check_2"):
        publish(lake, REPO, BRANCH, audit)
    assert lake.get_branch(REPO, "main").commit_id == before
    assert lake.get_branch(REPO, BRANCH).commit_id == audit.commit_id  # kept for inspection


def test_publish_refuses_an_audit_of_another_commit_or_no_checks(lake: LocalLake) -> None:
    stale = _audit(lake, "pass")
    lake.upload(REPO, BRANCH, "raw/late.parquet", b"y")
    lake.commit(REPO, BRANCH, "late data")
    with pytest.raises(PublishRefused, match="audit it again"):
        publish(lake, REPO, BRANCH, stale)
    with pytest.raises(PublishRefused, match="no checks ran"):
        publish(lake, REPO, BRANCH, _audit(lake))


def _post(url: str, event: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url + "/lakefs/pre-merge",
        data=json.dumps(event).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_pre_merge_webhook_answers_from_the_recorded_audit(lake: LocalLake, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    event = {
        "event_type": "pre-merge",
        "repository_id": REPO,
        "branch_id": "main",
        "source_ref": BRANCH,
        "action_name": "VoiceOps pre-merge audit",
        "hook_id": "voiceops_audit",
    }
    audit_log(settings).save(_audit(lake, "pass", "fail"))
    with running_hook_server(audit_for_hook(lake, settings)) as url:
        status, body = _post(url, event)
        assert status == 412 and not body["ok"]
        assert [c["name"] for c in body["failed_checks"]] == ["check_1"]
        audit_log(settings).save(_audit(lake, "pass", "pass"))
        status, body = _post(url, event)
        assert status == 200 and body["ok"] and body["commit_id"] == lake.resolve_ref(REPO, BRANCH)
        status, body = _post(url, {"event_type": "pre-commit", "repository_id": REPO})
        assert status == 400
