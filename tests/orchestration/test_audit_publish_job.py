"""Write-audit-publish end to end: ingest -> load -> dbt build + tests -> publish or refuse."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ingestion.simulator.day import write_day
from versioning.lake import Lake, open_lake
from voiceops.settings import Settings
from warehouse.audit import run_audit
from warehouse.connection import Warehouse
from warehouse.gate import PublishRefused, publish
from warehouse.hook import SECRET_HEADER, hook_verifier, running_hook_server
from warehouse.schemas import PUBLISHED, layer_schema

pytestmark = pytest.mark.slow
LAKE_REPO = "contact-center"
HOOK_SECRET = "test-hook-secret"


def _post_pre_merge(url: str, lake: Lake, source_ref: str) -> tuple[int, dict]:
    """A lakeFS pre-merge event for publishing ``source_ref``'s commit into main."""
    source = lake.resolve_ref(LAKE_REPO, source_ref)
    metadata = {"voiceops.kind": "publish", "voiceops.audited_commit": source}
    event = {
        "event_type": "pre-merge",
        "repository_id": LAKE_REPO,
        "branch_id": "main",
        "source_ref": source,
        "merge_source": source_ref,
        "commit_metadata": metadata,
    }
    request = urllib.request.Request(
        url + "/lakefs/pre-merge",
        data=json.dumps(event).encode(),
        headers={SECRET_HEADER: HOOK_SECRET},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_a_clean_day_is_published_and_a_bad_day_is_refused(settings: Settings) -> None:
    from voiceops.pipeline import audit_and_publish, ingest_day, train_models

    lake = open_lake(settings)
    write_day(settings.sources_root, 1, calls=700, seed=3, bad_rate=0.02, audio=False)
    first = ingest_day(1, lake, LAKE_REPO)
    published = audit_and_publish()
    assert published.success, published.summary
    assert published.branch == first.branch
    main = lake.get_commit(LAKE_REPO, "main")
    assert main.id == published.published_commit
    assert main.metadata["voiceops.audited_commit"] == first.commit.id
    with Warehouse.from_settings(settings) as warehouse:  # readers see the audited data
        assert warehouse.count(layer_schema(PUBLISHED, "marts"), "nlu_examples") > 0

    # Models train on the published data, pinned to its lake commit; a second run with the
    # same data, config and code keeps them instead of retraining.
    models = train_models("tiny", families=("nlu", "nlg"))
    for family in ("nlu", "nlg"):
        assert models[family]["lake_commit"] == main.id and models[family]["retrained"]
        assert Path(models[family]["model_path"]).is_dir()
    again = train_models("tiny", families=("nlu", "nlg"))
    assert not again["nlu"]["retrained"] and not again["nlg"]["retrained"]
    assert again["nlu"]["fingerprint"] == models["nlu"]["fingerprint"]

    write_day(settings.sources_root, 2, calls=60, seed=3, bad_rate=0.6, audio=False)
    second = ingest_day(2, lake, LAKE_REPO)
    refused = audit_and_publish()
    assert not refused.success and refused.branch == second.branch
    assert any("quarantined_share" in name for name in refused.failed_checks)
    assert refused.failure.startswith(f"publish of {second.branch} refused")
    assert "quarantined_share" in refused.failure
    assert lake.get_branch(LAKE_REPO, "main").commit_id == main.id  # main unchanged
    assert lake.get_branch(LAKE_REPO, second.branch).commit_id == second.commit.id  # kept

    # A leak of personal data blocks the publish too (redaction switched off for the audit).
    lake.create_branch(LAKE_REPO, "ingest-leaky", "main")
    lake.upload(LAKE_REPO, "ingest-leaky", "raw/leak-marker.txt", b"audit me")
    lake.commit(LAKE_REPO, "ingest-leaky", "a commit to audit")
    leaky = run_audit(lake, LAKE_REPO, "ingest-leaky", settings, dbt_vars={"redact": False})
    assert any(c.name.startswith("no_pii") for c in leaky.failed)
    with pytest.raises(PublishRefused, match="no_pii"):
        publish(lake, LAKE_REPO, "ingest-leaky", leaky)
    assert lake.get_branch(LAKE_REPO, "main").commit_id == main.id

    # The lakeFS pre-merge hook gives the same verdicts from the recorded audits; it never
    # audits (lakeFS holds the branch while it waits), so an unaudited commit is refused.
    with running_hook_server(hook_verifier(settings, lake), HOOK_SECRET) as url:
        status, body = _post_pre_merge(url, lake, second.branch)
        assert status == 412 and any("did not pass" in p for p in body["problems"]), body
        lake.create_branch(LAKE_REPO, "ingest-rebuild", "main")  # a fresh, unaudited ref
        status, body = _post_pre_merge(url, lake, "ingest-rebuild")
        assert status == 412 and any("has no audit" in p for p in body["problems"]), body


def test_a_first_day_missing_intents_is_refused(
    settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    from voiceops.pipeline import audit_and_publish, ingest_day

    lake = open_lake(settings)
    write_day(settings.sources_root, 1, calls=25, seed=4, bad_rate=0.0, audio=False)
    ingest_day(1, lake, LAKE_REPO)
    capfd.readouterr()
    refused = audit_and_publish(echo_dbt_log=False)  # as the CLI demo runs it
    assert not refused.success
    failed = [name for name in refused.failed_checks if name.startswith("min_examples_per")]
    assert failed and all(refused.failed_messages[name] for name in failed)
    assert len(lake.log(LAKE_REPO, "main")) == 1
    out = capfd.readouterr().out  # neither dbt's log nor Dagster's records as Airbyte JSON
    assert "Running with dbt" not in out and " START " not in out and '"type":"LOG"' not in out
