"""Write-audit-publish end to end: ingest -> load -> dbt build + tests -> publish or refuse."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from core.settings import Settings
from core.trail import check, open_trail
from ingestion.simulator.day import write_day
from versioning.lake import Lake, open_lake
from warehouse.audit import run_audit
from warehouse.audits import PublishRefused, audit_log
from warehouse.connection import Warehouse
from warehouse.hook import SECRET_HEADER, hook_verifier, running_hook_server
from warehouse.manifest import current_manifest_hash
from warehouse.publish import publish
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
    from orchestration.runs import audit_and_publish, ingest_day, train_models

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
    trail = open_trail(settings)
    publishes = [(e.action, e.subject) for e in trail.entries() if e.action.startswith("pub")]
    assert publishes == [
        ("publish", f"lakefs://{LAKE_REPO}/{first.branch}@{first.commit.id}"),
        ("publish.refused", f"lakefs://{LAKE_REPO}/{second.branch}"),
    ]
    assert check(trail)[1] is None

    # With redaction switched off the audit finds the personal data (no_pii fails); an audit
    # run with such overridden dbt vars is kept apart and never lets a commit be published.
    lake.create_branch(LAKE_REPO, "ingest-leaky", "main")
    lake.upload(LAKE_REPO, "ingest-leaky", "raw/leak-marker.txt", b"audit me")
    lake.commit(LAKE_REPO, "ingest-leaky", "a commit to audit")
    leaky = run_audit(lake, LAKE_REPO, "ingest-leaky", settings, dbt_vars={"redact": False})
    assert any(c.name.startswith("no_pii") for c in leaky.failed) and not leaky.strict
    with pytest.raises(PublishRefused, match="no audit recorded"):
        publish(
            lake,
            LAKE_REPO,
            leaky.commit_id,
            audit_log(settings),
            branch="ingest-leaky",
            manifest_hash=current_manifest_hash(settings),
        )
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
    from orchestration.runs import audit_and_publish, ingest_day

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


def test_two_days_ingested_before_either_was_published_are_each_audited_against_main(
    settings: Settings,
) -> None:
    """Both branches fork from the same main; the second is published only after its
    combination with the main the first one made has been audited (and that exact merge
    commit is what main then holds)."""
    from orchestration.runs import audit_and_publish, ingest_day
    from warehouse.verify import main_problems

    lake = open_lake(settings)
    write_day(settings.sources_root, 1, calls=700, seed=5, bad_rate=0.02, audio=False)
    first = ingest_day(1, lake, LAKE_REPO)
    write_day(settings.sources_root, 2, calls=80, seed=5, bad_rate=0.02, audio=False)
    second = ingest_day(2, lake, LAKE_REPO)
    main_before = lake.get_branch(LAKE_REPO, "main").commit_id
    assert first.commit.parents == second.commit.parents == (main_before,)  # same fork point

    published = audit_and_publish(branch=first.branch)
    assert published.success, published.failure
    after_first = lake.get_branch(LAKE_REPO, "main").commit_id

    combined = audit_and_publish(branch=second.branch)
    assert combined.success, combined.failure
    assert combined.commit_id not in (second.commit.id, first.commit.id)  # the combination
    main = lake.get_commit(LAKE_REPO, "main")
    assert main.parents == (after_first, combined.commit_id)
    assert main.metadata["voiceops.audited_commit"] == combined.commit_id
    assert lake.is_ancestor(LAKE_REPO, second.commit.id, "main")
    assert not lake.diff(LAKE_REPO, combined.commit_id, "main")
    assert f"publish-{second.branch}" not in {b.id for b in lake.list_branches(LAKE_REPO)}
    assert main_problems(lake, LAKE_REPO, audit_log(settings)) == []
    with Warehouse.from_settings(settings) as warehouse:  # both days reached the readers
        parts = warehouse.fetchall(
            f"SELECT DISTINCT _lake_path FROM {layer_schema(PUBLISHED, 'raw')}.call_exports_calls"
        )
    assert sorted(p.split("/dt=")[1][:10] for (p,) in parts) == ["2026-01-01", "2026-01-02"]
