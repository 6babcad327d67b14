"""The ingestion job end to end: simulated days -> Airbyte (embedded) -> ingest-* branches."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from core.settings import Settings, get_settings
from ingestion.simulator.day import write_day
from ingestion.simulator.defects import AUDIO_DEFECTS
from versioning.lake import ObjectStat, open_lake

pytestmark = pytest.mark.slow
REPO_ROOT = Path(__file__).resolve().parents[2]
LAKE_REPO = "contact-center"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("VOICEOPS_HOME", str(home))
    monkeypatch.setenv("VOICEOPS_LAKE_FSYNC", "false")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("VOICEOPS_CRM_API_URL", "http://127.0.0.1:9")  # nothing there: serve DB
    shared = os.environ.get("VOICEOPS_TEST_AIRBYTE_INSTALL_DIR")
    install = Path(shared) if shared else REPO_ROOT / ".voiceops" / "airbyte-test"
    monkeypatch.setenv("AIRBYTE_INSTALL_DIR", str(install))  # one connector install per machine
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


def _jsonl(lake, ref: str, path: str) -> list[dict]:
    return [json.loads(line) for line in lake.read_bytes(LAKE_REPO, ref, path).splitlines()]


def test_two_days_land_on_their_own_branches_incrementally_with_quarantine(home: Path) -> None:
    from orchestration.runs import ingest_day

    settings = Settings()
    lake = open_lake(settings)
    day1 = write_day(settings.sources_root, 1, calls=24, seed=5, bad_rate=0.25)
    first = ingest_day(1, lake, LAKE_REPO)
    day2 = write_day(settings.sources_root, 2, calls=24, seed=5, bad_rate=0.25)
    second = ingest_day(2, lake, LAKE_REPO)

    assert first.branch.startswith("ingest-20260101-") and second.branch.startswith(
        "ingest-20260102-"
    )
    for outcome, report in ((first, day1), (second, day2)):
        meta = outcome.commit.metadata
        assert meta["voiceops.kind"] == "ingestion" and meta["voiceops.run_id"] == outcome.run_id
        assert meta["voiceops.date"] == report.date
        assert meta["connector.call_exports"] == "source-file==0.5.39"
        assert meta["connector.crm"].startswith("declarative:crm==")
        for key in ("call_exports.calls", "crm.customers", "crm.tickets"):
            assert f"state.{key}" in meta
        records, rejected = outcome.count("records"), outcome.count("quarantined")
        audio_defects = [d for d in report.defects if d["kind"] in AUDIO_DEFECTS]
        record_defects = [d for d in report.defects if d["kind"] not in AUDIO_DEFECTS]
        # Nothing disappears: every line of the export is either raw or quarantined.
        assert records["call_exports.calls"] + rejected["call_exports.calls"] == report.calls
        assert rejected["call_exports.calls"] == len(record_defects)
        assert rejected["recordings.wav"] == len(audio_defects)
        partition = f"dt={report.date}"
        if record_defects:
            rejects = _jsonl(
                lake, outcome.branch, f"quarantine/call_exports/calls/{partition}/rejects.jsonl"
            )
            assert all(r["reason"] for r in rejects)
        if audio_defects:
            reasons = _jsonl(
                lake, outcome.branch, f"quarantine/recordings/{partition}/reasons.jsonl"
            )
            assert sorted(r["file"] for r in reasons) == sorted(
                d["recording"] for d in audio_defects
            )
        raw = [
            o.path
            for o in lake.list_objects(LAKE_REPO, outcome.branch, f"raw/recordings/{partition}/")
            if isinstance(o, ObjectStat)
        ]
        assert len(raw) == records["recordings.wav"]
    # Day 2 is incremental: the CRM sync pulls only rows created or updated since day 1
    # (plus the rows sharing the cursor's timestamp: the cursor is inclusive).
    changed = day2.crm["customers_new"] + day2.crm["customers_updated"]
    assert changed <= second.count("records")["crm.customers"] <= changed + 1
    assert first.count("records")["crm.customers"] == day1.crm["customers_new"]
    # Not published: main still has only the repository's first commit.
    assert len(lake.log(LAKE_REPO, "main")) == 1


def test_re_ingesting_a_day_pulls_nothing_new(home: Path) -> None:
    from orchestration.runs import ingest_day

    settings = Settings()
    lake = open_lake(settings)
    write_day(settings.sources_root, 1, calls=8, seed=9, bad_rate=0.0, audio=False)
    ingest_day(1, lake, LAKE_REPO)
    again = ingest_day(1, lake, LAKE_REPO)
    records = again.count("records")
    assert records["call_exports.calls"] == 0
    assert records["crm.customers"] <= 1  # only the row at the inclusive cursor
