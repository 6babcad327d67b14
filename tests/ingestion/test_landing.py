"""Validation and landing on an ingestion branch: nothing disappears, everything is counted."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ingestion import lake_landing, schemas, validation
from tests.factories import call_record, sealer_in, wav_bytes
from versioning.lake.local import LocalLake

DAY = date(2026, 1, 2)
REPO = "contact-center"


@pytest.fixture
def lake(tmp_path: Path) -> LocalLake:
    return LocalLake(tmp_path / "lake", fsync=False)


BAD_CALLS = [
    (call_record("C2", intent="make_coffee"), "intent"),
    (call_record("C3", transcript="  "), "transcript"),
    (call_record("C4", duration_s="abc"), "duration_s"),
    (call_record("C5", slots="card 1234"), "slots"),
    (call_record("C6", slots={"city": "Москва"}), "slots"),
    (call_record("", customer_id="X"), "call_id"),
    (call_record("C7", started_at="yesterday"), "started_at"),
    (call_record("C8", language="de"), "language"),
    (call_record("C9", line="noisy"), "line: not a line label: 'noisy'"),
    (call_record("C10", line=None), "line: missing"),
    (call_record("C11", line="gsm:band=250-3300:loss=0.9:snr=12"), "line: not a line label"),
    (call_record("C1"), "duplicate"),
    ("not an object", "not an object"),
]


def test_every_bad_call_is_rejected_with_a_reason_naming_the_field() -> None:
    checked = validation.check_calls([call_record("C1")] + [bad for bad, _ in BAD_CALLS])
    assert [r["call_id"] for r in checked.valid] == ["C1"]
    assert len(checked.rejects) == len(BAD_CALLS)
    for reject, (_, expected) in zip(checked.rejects, BAD_CALLS, strict=True):
        assert expected in reject["reason"]


def test_recording_contract() -> None:
    assert validation.recording_problem(wav_bytes()) is None
    assert "empty" in validation.recording_problem(b"")
    assert "sample rate 44100" in validation.recording_problem(wav_bytes(rate=44100))
    assert "mono" in validation.recording_problem(wav_bytes(channels=2))
    assert "not a readable WAV" in validation.recording_problem(b"hello, not audio")
    assert "truncated" in validation.recording_problem(wav_bytes(frames=4000)[:3000])


def test_landing_writes_parquet_quarantine_and_one_commit_with_metadata(
    lake: LocalLake, tmp_path: Path
) -> None:
    branch = lake_landing.ingest_branch_name("run-1", DAY)
    lake_landing.ensure_ingest_branch(lake, REPO, branch)
    checked = validation.check_calls(
        [call_record("C1"), call_record("C9")] + [b for b, _ in BAD_CALLS]
    )
    sealer = sealer_in(tmp_path)
    calls = lake_landing.land_records(
        lake,
        REPO,
        branch,
        run_id="run-1",
        source="call_exports",
        stream="calls",
        day=DAY,
        checked=checked,
        schema=schemas.CALLS,
        connector="source-file",
        connector_version="0.5.39",
        state={"files": {"calls.jsonl": "abc"}},
        sealer=sealer,
    )
    wavs = tmp_path / "wavs"
    wavs.mkdir()
    (wavs / "C1.wav").write_bytes(wav_bytes())
    (wavs / "C9.wav").write_bytes(wav_bytes(rate=44100))
    (wavs / "C10.wav").write_bytes(b"")
    (wavs / "C11.wav").write_bytes(wav_bytes())  # no call names it: lands plain
    owners = {"C1": "CUST-1", "C9": "CUST-9", "C10": "CUST-10"}
    recordings = lake_landing.land_recordings(
        lake, REPO, branch, run_id="run-1", day=DAY, directory=wavs, sealer=sealer, owners=owners
    )
    commit = lake_landing.commit_ingestion(
        lake, REPO, branch, run_id="run-1", day=DAY, landings=[calls, recordings]
    )
    meta = commit.metadata
    assert meta["records.call_exports.calls"] == "2"
    assert meta["quarantined.call_exports.calls"] == str(len(BAD_CALLS))
    assert meta["records.recordings.wav"] == "2"
    assert meta["quarantined.recordings.wav"] == "2"
    assert meta["unattributed.recordings.wav"] == "1"
    assert "erased.recordings.wav" not in meta
    assert meta["connector.call_exports"] == "source-file==0.5.39"
    assert json.loads(meta["state.call_exports.calls"]) == {"files": {"calls.jsonl": "abc"}}
    assert meta["voiceops.run_id"] == "run-1" and meta["voiceops.date"] == "2026-01-02"

    part = lake.read_bytes(
        REPO, commit.id, "raw/call_exports/calls/dt=2026-01-02/part-00000.parquet"
    )
    table = sealer.open_table(pq.read_table(io.BytesIO(part))).table
    assert table.schema.field("duration_s").type == "double"
    assert sorted(table.column("call_id").to_pylist()) == ["C1", "C9"]
    assert json.loads(table.column("slots")[0].as_py()) == {"card_last4": "1234"}
    rejects = lake.read_bytes(
        REPO, commit.id, "quarantine/call_exports/calls/dt=2026-01-02/rejects.jsonl"
    )
    lines = [sealer.open_entry(json.loads(line)) for line in rejects.decode().splitlines()]
    assert len(lines) == len(BAD_CALLS) and all(line["reason"] for line in lines)
    wav = lake.read_bytes(REPO, commit.id, "raw/recordings/dt=2026-01-02/C1.wav")
    assert sealer.open_blob(wav) == wav_bytes() != wav
    assert lake.read_bytes(REPO, commit.id, "raw/recordings/dt=2026-01-02/C11.wav") == wav_bytes()
    assert lake.exists(REPO, commit.id, "quarantine/recordings/dt=2026-01-02/C9.wav")
    reasons = lake.read_bytes(REPO, commit.id, "quarantine/recordings/dt=2026-01-02/reasons.jsonl")
    assert "44100" in reasons.decode() and "empty" in reasons.decode()
    # Not published: main does not see the run.
    assert not lake.exists(REPO, "main", "raw/recordings/dt=2026-01-02/C1.wav")


def test_latest_state_comes_from_the_newest_surviving_ingestion_commit(lake: LocalLake) -> None:
    key = "crm.customers"
    assert lake_landing.latest_state(lake, REPO, key) is None
    for run, cursor in [("r1", "2026-01-01"), ("r2", "2026-01-02")]:
        branch = lake_landing.ingest_branch_name(run, DAY)
        lake_landing.ensure_ingest_branch(lake, REPO, branch)
        landing = lake_landing.Landing(
            "crm", "customers", DAY.isoformat(), 0, 0, 0, state={"cursor": cursor}
        )
        lake_landing.commit_ingestion(lake, REPO, branch, run_id=run, day=DAY, landings=[landing])
    assert lake_landing.latest_state(lake, REPO, key) == {"cursor": "2026-01-02"}
    lake.delete_branch(REPO, lake_landing.ingest_branch_name("r2", DAY))
    assert lake_landing.latest_state(lake, REPO, key) == {"cursor": "2026-01-01"}


def test_branch_names_follow_lakefs_rules() -> None:
    assert lake_landing.ingest_branch_name("f3a/9b:c1-77aa", DAY) == "ingest-20260102-f3a-9b-c1-77"


def test_latest_state_skips_heads_the_publish_gate_refused(lake: LocalLake) -> None:
    key = "crm.customers"
    heads = {}
    for run, cursor in [("r1", "2026-01-01"), ("r2", "2026-01-02")]:
        branch = lake_landing.ingest_branch_name(run, DAY)
        lake_landing.ensure_ingest_branch(lake, REPO, branch)
        landing = lake_landing.Landing(
            "crm", "customers", DAY.isoformat(), 0, 0, 0, state={"cursor": cursor}
        )
        heads[run] = lake_landing.commit_ingestion(
            lake, REPO, branch, run_id=run, day=DAY, landings=[landing]
        )
    refused_ids = {heads["r2"].id}
    state = lake_landing.latest_state(lake, REPO, key, refused=refused_ids.__contains__)
    assert state == {"cursor": "2026-01-01"}  # the refused run's records are pulled again
    assert lake_landing.latest_state(lake, REPO, key) == {"cursor": "2026-01-02"}


def test_refused_by_gate_reads_the_audit_log(tmp_path, monkeypatch) -> None:
    from core.settings import Settings
    from orchestration.defs.ingestion.assets import _refused_by_gate
    from warehouse.audits import Audit, CheckResult, audit_log

    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path))
    settings = Settings()
    log = audit_log(settings)
    bad, good, never = "b" * 64, "c" * 64, "d" * 64
    log.save(Audit(REPO, "b1", bad, "audit_b1", [CheckResult("no_pii", "fail")]))
    log.save(Audit(REPO, "b2", good, "audit_b2", [CheckResult("no_pii", "pass")]))
    refused = _refused_by_gate(settings)
    assert refused(bad)
    assert not refused(good) and not refused(never)


def test_sealed_recordings_are_uploaded_in_batches(
    lake: LocalLake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    branch = lake_landing.ingest_branch_name("run-b", DAY)
    lake_landing.ensure_ingest_branch(lake, REPO, branch)
    wavs = tmp_path / "wavs"
    wavs.mkdir()
    for n in range(3):
        (wavs / f"C{n}.wav").write_bytes(wav_bytes())
    calls: list[int] = []
    real = lake.upload_many
    monkeypatch.setattr(lake_landing, "SEALED_BATCH_BYTES", 1)
    monkeypatch.setattr(lake, "upload_many", lambda *a, **k: calls.append(1) or real(*a, **k))
    sealer = sealer_in(tmp_path)
    landing = lake_landing.land_recordings(
        lake, REPO, branch, run_id="run-b", day=DAY, directory=wavs, sealer=sealer,
        owners={f"C{n}": f"CUST-{n}" for n in range(3)},
    )  # fmt: skip
    assert landing.records == 3 and len(calls) == 4  # one per sealed WAV, then the summary
    for n in range(3):
        data = lake.read_bytes(REPO, branch, f"raw/recordings/dt=2026-01-02/C{n}.wav")
        assert sealer.open_blob(data) == wav_bytes()
