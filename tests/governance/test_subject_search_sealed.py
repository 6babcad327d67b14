"""Subject search over a sealed lake: sealed data is opened and found; once the subject's key
is destroyed, what is sealed under it is noise, never a hit (recordings included)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from core.sealing import Sealer
from core.settings import Settings
from governance.subject import identify
from governance.subject_lake import search_lake
from ingestion import lake_landing, schemas, validation
from tests.factories import call_record, wav_bytes
from versioning.lake import open_lake

DAY = date(2026, 1, 1)
ALICE = {
    "customer_id": "CUST-001001",
    "full_name": "Alice Walker",
    "phone": "+44 7700 900123",
    "email": "alice.walker@example.com",
    "passport": "X1234567",
    "language": "en",
    "segment": "mass",
    "city": "London",
    "created_at": "2026-01-01T09:00:00+00:00",
    "updated_at": "2026-01-01T09:00:00+00:00",
}
BOB = ALICE | {
    "customer_id": "CUST-001002",
    "full_name": "Bob Stone",
    "email": "b@example.com",
    "phone": "+44 7700 900999",
    "passport": "Y7654321",
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A lake at main with Alice's and Bob's customers, calls, a reject and WAVs, sealed."""
    settings = Settings(home=tmp_path / "home", lake_fsync=False)
    lake, repo, sealer = (
        open_lake(settings),
        settings.lake_repository,
        Sealer.from_settings(settings),
    )
    branch = lake_landing.ingest_branch_name("run-1", DAY)
    lake_landing.ensure_ingest_branch(lake, repo, branch)
    wavs = tmp_path / "wavs"
    wavs.mkdir()
    for call in ("C1", "C2"):
        (wavs / f"{call}.wav").write_bytes(wav_bytes())
    calls = [
        call_record("C1", day="2026-01-01", customer_id=ALICE["customer_id"]),
        call_record("C2", day="2026-01-01", customer_id=BOB["customer_id"]),
        call_record("C3", day="2026-01-01", customer_id=ALICE["customer_id"], intent="nope"),
    ]
    common = {"run_id": "run-1", "day": DAY, "sealer": sealer}
    landings = [
        lake_landing.land_records(lake, repo, branch, source="crm", stream="customers",
            checked=validation.check_crm("customers", [ALICE, BOB]), schema=schemas.CUSTOMERS,
            **common),
        lake_landing.land_records(lake, repo, branch, source="call_exports", stream="calls",
            checked=validation.check_calls(calls), schema=schemas.CALLS, **common),
        lake_landing.land_recordings(lake, repo, branch, directory=wavs,
            owners={"C1": ALICE["customer_id"], "C2": BOB["customer_id"]}, **common),
    ]  # fmt: skip
    lake_landing.commit_ingestion(lake, repo, branch, run_id="run-1", day=DAY, landings=landings)
    lake.delete_branch_protection(repo, "main")  # no publish gate here: merge straight in
    lake.merge(repo, branch, "main")
    return settings


def _hits(settings: Settings, subject) -> dict[str, dict[str, int]]:
    found, _ = search_lake(settings, subject)
    return {
        hit.path.split("/dt=")[0] + "/" + hit.path.rsplit("/", 1)[-1]: hit.hits for hit in found
    }


def test_sealed_data_is_opened_and_found(settings: Settings) -> None:
    subject = identify(settings, ALICE["customer_id"])
    assert subject.record_from == "lake" and subject.values["full_name"] == "Alice Walker"
    hits = _hits(settings, subject)
    customers = hits["raw/crm/customers/part-00000.parquet"]
    assert customers["full_name"] == 1 and customers["email"] == 1
    assert hits["raw/call_exports/calls/part-00000.parquet"]["customer_id"] == 1
    assert hits["quarantine/call_exports/calls/rejects.jsonl"]["customer_id"] == 1
    assert hits["raw/recordings/C1.wav"] == {"call_recording": 1}
    assert "raw/recordings/C2.wav" not in hits


def test_after_the_key_is_destroyed_nothing_of_the_subject_is_a_hit(settings: Settings) -> None:
    subject = identify(settings, ALICE["customer_id"])
    Sealer.from_settings(settings).store.destroy(ALICE["customer_id"])
    subject.call_ids.add("C1")  # even knowing the call, its sealed WAV is noise
    assert _hits(settings, subject) == {}
    bob = identify(settings, BOB["customer_id"])
    assert "raw/recordings/C2.wav" in _hits(settings, bob)
