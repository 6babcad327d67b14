"""The lakeFS pre-merge webhook, on a real local lake and audit log (the publish gate itself:
``tests/gate/``)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from core.settings import Settings
from versioning.lake.local import LocalLake
from warehouse.audit import audit_log
from warehouse.audits import Audit, CheckResult
from warehouse.hook import SECRET_HEADER, PreMergeVerifier, running_hook_server

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


HOOK_SECRET = "test-hook-secret"


def _post(
    url: str, event: dict, secret: str | None = HOOK_SECRET, bearer: str | None = None
) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    request = urllib.request.Request(
        url + "/lakefs/pre-merge", data=json.dumps(event).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_pre_merge_webhook_verifies_the_recorded_audit_and_runs_none(
    lake: LocalLake, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home")
    source = lake.resolve_ref(REPO, BRANCH)
    event = {
        "event_type": "pre-merge",
        "repository_id": REPO,
        "branch_id": "main",
        "source_ref": source,
        "merge_source": BRANCH,
        "commit_metadata": {"voiceops.kind": "publish", "voiceops.audited_commit": source},
        "action_name": "VoiceOps publish gate",
        "hook_id": "voiceops_publish_gate",
    }
    verifier = PreMergeVerifier(lake, audit_log(settings), lambda: "m1")
    with running_hook_server(verifier, HOOK_SECRET) as url:
        status, body = _post(url, event)  # nothing recorded: refused, and nothing audited
        assert status == 412 and "has no audit" in body["problems"][0]
        assert audit_log(settings).get(source) is None
        audit_log(settings).save(_audit(lake, "pass", "fail"))
        status, body = _post(url, event)
        assert status == 412 and not body["ok"]
        assert any("check_1" in problem for problem in body["problems"])
        audit_log(settings).save(_audit(lake, "pass", "pass"))
        status, body = _post(url, event)
        assert status == 200 and body["ok"] and body["source_commit"] == source
        assert _post(url, event, secret=None)[0] == 401
        assert _post(url, event, secret="wrong")[0] == 401
        status, body = _post(url, {"event_type": "pre-commit", "repository_id": REPO})
        assert status == 400


def test_pre_merge_webhook_takes_a_service_key_and_refuses_other_roles(
    lake: LocalLake, tmp_path: Path
) -> None:
    from core.access import Gatekeeper

    settings = Settings(home=tmp_path / "home", auth="required")
    gatekeeper = Gatekeeper.from_settings(settings)
    _, service = gatekeeper.keys.create("lakefs", "service")
    _, analyst = gatekeeper.keys.create("dana", "analyst")
    source = lake.resolve_ref(REPO, BRANCH)
    event = {
        "event_type": "pre-merge",
        "repository_id": REPO,
        "branch_id": "main",
        "source_ref": source,
        "merge_source": BRANCH,
        "commit_metadata": {"voiceops.kind": "publish", "voiceops.audited_commit": source},
    }
    audit_log(settings).save(_audit(lake, "pass", "pass"))
    verifier = PreMergeVerifier(lake, audit_log(settings), lambda: "m1")

    def post(key: str | None) -> tuple[int, dict]:
        return _post(url, event, secret=None, bearer=key)

    with running_hook_server(verifier, "", gatekeeper=gatekeeper) as url:
        assert post(service)[0] == 200
        status, body = post(analyst)
        assert status == 403 and "lacks the scope 'lake:pre-merge'" in body["error"]
        status, body = post(None)
        assert status == 401 and "missing Authorization" in body["error"]
        assert _post(url, event, secret="anything")[0] == 401  # no secret configured
    gatekeeper.close()
    with pytest.raises(ValueError, match="no hook secret"), running_hook_server(verifier, ""):
        pass
