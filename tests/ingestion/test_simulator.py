"""The contact-center simulator end to end: determinism, defects, personal data, CRM days, CLI."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.pii import PII_KINDS, pii_kinds
from core.taxonomy import load_taxonomy
from ingestion.simulator import crm, layout
from ingestion.simulator.day import DayReport, write_day
from ingestion.simulator.defects import AUDIO_DEFECTS, RECORD_DEFECTS
from ingestion.validation import check_calls, recording_problem
from voiceops.cli import app

CALLS, SEED, RATE = 400, 7, 0.05


def _files(root: Path, day: int) -> dict[str, bytes]:
    paths = (
        layout.calls_jsonl(root, day),
        layout.calls_csv(root, day),
        layout.day_manifest(root, day),
    )
    return {p.name: p.read_bytes() for p in paths}


def _two_days(root: Path, seed: int = SEED) -> tuple[DayReport, DayReport]:
    first = write_day(root, 1, CALLS, seed, bad_rate=RATE, audio=False)
    second = write_day(root, 2, CALLS, seed, bad_rate=RATE, audio=False)
    return first, second


@pytest.fixture(scope="module")
def sources(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, DayReport, DayReport]]:
    root = tmp_path_factory.mktemp("sources")
    first, second = _two_days(root)
    yield root, first, second


def _lines(root: Path, day: int) -> list[str]:
    return layout.calls_jsonl(root, day).read_text(encoding="utf-8").splitlines()


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_bytes_and_rows(sources, tmp_path: Path) -> None:
    root, _, _ = sources
    _two_days(tmp_path)
    for day in (1, 2):
        assert _files(tmp_path, day) == _files(root, day)
    assert crm.dump(layout.crm_database(tmp_path)) == crm.dump(layout.crm_database(root))


def test_different_seed_different_data(sources, tmp_path: Path) -> None:
    root, _, _ = sources
    write_day(tmp_path, 1, CALLS, SEED + 1, bad_rate=RATE, audio=False)
    assert _files(tmp_path, 1)["calls.jsonl"] != _files(root, 1)["calls.jsonl"]
    other = crm.dump(layout.crm_database(tmp_path))
    assert other["customers"] != crm.dump(layout.crm_database(root))["customers"]


def test_rerunning_a_day_is_idempotent(sources, tmp_path: Path) -> None:
    root, _, _ = sources
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    write_day(copy, 2, CALLS, SEED, bad_rate=RATE, audio=False)
    assert _files(copy, 2) == _files(root, 2)
    assert crm.dump(layout.crm_database(copy)) == crm.dump(layout.crm_database(root))


# --------------------------------------------------------------------------- records


def test_records_follow_the_layout_and_taxonomy(sources) -> None:
    root, first, _ = sources
    taxonomy = load_taxonomy()
    bad_lines = {d["line"] for d in first.defects}
    records = [json.loads(line) for i, line in enumerate(_lines(root, 1), 1) if i not in bad_lines]
    assert len(records) == CALLS - len(bad_lines)
    assert all(tuple(r) == layout.CALL_FIELDS for r in records)
    assert len({r["call_id"] for r in records}) == len(records)
    assert {r["intent"] for r in records} == set(taxonomy.intents)
    share_ru = sum(r["language"] == "ru" for r in records) / len(records)
    assert 0.4 < share_ru < 0.6
    assert check_calls(records).rejects == []
    assert all(r["started_at"].startswith("2026-01-01T") for r in records)
    assert [r["started_at"] for r in records] == sorted(r["started_at"] for r in records)
    with sqlite3.connect(layout.crm_database(root)) as conn:
        customers = {row[0] for row in conn.execute("SELECT customer_id FROM customers")}
    assert {r["customer_id"] for r in records} <= customers


def test_csv_carries_the_same_calls(sources) -> None:
    root, first, _ = sources
    bad_lines = {d["line"] for d in first.defects}
    with layout.calls_csv(root, 1).open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == CALLS
    for i, (line, row) in enumerate(zip(_lines(root, 1), rows, strict=True), 1):
        if i in bad_lines:
            continue
        record = json.loads(line)
        assert row["call_id"] == record["call_id"] and row["transcript"] == record["transcript"]
        assert json.loads(row["slots"]) == record["slots"]
        assert float(row["duration_s"]) == record["duration_s"]


# --------------------------------------------------------------------------- defects


def test_defects_are_planted_at_the_rate_and_all_listed(sources) -> None:
    root, first, second = sources
    for day, report in ((1, first), (2, second)):
        manifest = json.loads(layout.day_manifest(root, day).read_text(encoding="utf-8"))
        assert manifest["defects"] == report.defects
        assert len(report.defects) == round(CALLS * RATE)
        assert {d["kind"] for d in report.defects} <= set(RECORD_DEFECTS)
        lines = _lines(root, day)
        rejected, parsed = set(), []
        for i, line in enumerate(lines, 1):
            try:
                parsed.append((i, json.loads(line)))
            except json.JSONDecodeError:
                rejected.add(i)
        checked = check_calls(record for _, record in parsed)
        reject_ids = [id(r["record"]) for r in checked.rejects]
        rejected |= {i for i, record in parsed if id(record) in reject_ids}
        assert rejected == {d["line"] for d in report.defects}
        for d in report.defects:
            if d["kind"] != "truncated_line":
                assert json.loads(lines[d["line"] - 1])["call_id"] == d["call_id"]


def test_no_defects_at_rate_zero(tmp_path: Path) -> None:
    report = write_day(tmp_path, 1, 60, SEED, bad_rate=0.0, audio=False)
    assert report.defects == []
    records = [json.loads(line) for line in _lines(tmp_path, 1)]
    assert check_calls(records).rejects == []


# --------------------------------------------------------------------------- personal data


def test_personal_data_is_planted_and_listed(sources) -> None:
    root, first, _ = sources
    manifest = json.loads(layout.day_manifest(root, 1).read_text(encoding="utf-8"))
    listed = {
        (r["line"], r["field"]): r["kinds"]
        for r in manifest["pii"]["records"]
        if r["source"] == "calls"
    }
    bad_lines = {d["line"] for d in first.defects}
    records = []
    for i, line in enumerate(_lines(root, 1), 1):
        if i in bad_lines:
            continue
        records.append(json.loads(line))
        kinds = pii_kinds(records[-1]["transcript"])
        assert listed.get((i, "transcript"), []) == kinds
    with_pii = 0
    for record in records:
        kinds = pii_kinds(record["transcript"])
        non_recipient = set(kinds) - ({"person_name"} if "recipient" in record["slots"] else set())
        with_pii += bool(non_recipient)
    assert 0.08 < with_pii / len(records) < 0.35
    assert set(manifest["pii"]["counts"]["calls"]) == set(PII_KINDS)
    with sqlite3.connect(layout.crm_database(root)) as conn:
        notes = [row[0] for row in conn.execute("SELECT note FROM tickets")]
        customers = conn.execute(
            "SELECT full_name, phone, email, passport FROM customers"
        ).fetchall()
    assert sum(bool(pii_kinds(n)) for n in notes) / len(notes) > 0.5
    for name, phone, email, passport in customers[:50]:
        kinds = pii_kinds(f"{name} {phone} {email} {passport}")
        assert kinds == ["email", "passport", "person_name", "phone"]


# --------------------------------------------------------------------------- CRM


def test_day_two_adds_and_updates_crm_rows(sources) -> None:
    root, first, second = sources
    day2 = layout.day_date(2).isoformat()
    with sqlite3.connect(layout.crm_database(root)) as conn:
        rows = conn.execute("SELECT created_at, updated_at FROM customers").fetchall()
        tickets = conn.execute("SELECT created_at, updated_at, status FROM tickets").fetchall()
    assert all(updated >= created for created, updated in rows + [t[:2] for t in tickets])
    new_customers = [r for r in rows if r[0].startswith(day2)]
    old_customers_edited = [r for r in rows if r[0] < day2 and r[1].startswith(day2)]
    new_tickets = [t for t in tickets if t[0].startswith(day2)]
    old_tickets_edited = [t for t in tickets if t[0] < day2 and t[1].startswith(day2)]
    assert len(new_customers) == second.crm["customers_new"] > 0
    assert len(old_customers_edited) == second.crm["customers_updated"] > 0
    assert len(new_tickets) == second.crm["tickets_new"] > 0
    assert len(old_tickets_edited) == second.crm["tickets_updated"] > 0
    assert first.crm["customers_updated"] == first.crm["tickets_updated"] == 0
    assert {t[2] for t in tickets} >= {"open", "in_progress", "resolved"}


# --------------------------------------------------------------------------- CLI


def test_cli_writes_a_day(tmp_path: Path) -> None:
    args = f"simulate --day 1 --calls 40 --seed 3 --no-audio --out {tmp_path}".split()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Calls" in result.stdout and "40" in result.stdout and "Defects" in result.stdout
    assert len(_lines(tmp_path, 1)) == 40
    assert layout.day_manifest(tmp_path, 1).is_file()
    assert layout.crm_database(tmp_path).is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "--no-audio"], "--day is required"),
        (["simulate", "--day", "0", "--no-audio"], "day must be >= 1"),
        (["simulate", "--day", "1", "--bad-rate", "2", "--no-audio"], "bad rate"),
        (["simulate", "serve-crm"], "no CRM database"),
    ],
)
def test_cli_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "empty")])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1


# --------------------------------------------------------------------------- audio


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_audio_day_writes_telephone_wavs(tmp_path: Path) -> None:
    report = write_day(tmp_path, 1, 6, SEED, bad_rate=0.34, audio=True)
    folder = layout.recordings_dir(tmp_path, 1)
    bad = {d["recording"]: d["kind"] for d in report.defects}
    assert len(bad) == 2
    for line in _lines(tmp_path, 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        wav_path = folder / record["recording"]
        problem = recording_problem(wav_path.read_bytes())
        if bad.get(record["recording"]) in AUDIO_DEFECTS:
            assert problem is not None
        elif record["recording"] not in bad:
            assert problem is None, (record["recording"], problem)
            with wave.open(str(wav_path)) as w:
                assert w.getframerate() == 8000 and w.getnchannels() == 1
                assert abs(w.getnframes() / 8000 - record["duration_s"]) < 0.01
    assert len(list(folder.glob("*.wav"))) == 6


# --------------------------------------------------------------------------- voices and lines


def test_calls_carry_their_line_and_voices_of_every_engine(tmp_path: Path) -> None:
    from core.telephony import DEGRADED_LINE_SHARE, line_codec, parse_line
    from core.voices import parse_speaker_id

    report = write_day(tmp_path, 1, 400, SEED, bad_rate=0.0, audio=False)
    records = [json.loads(line) for line in _lines(tmp_path, 1)]
    lines = [parse_line(r["line"]) for r in records]
    degraded = sum(not line.is_clean for line in lines) / len(lines)
    assert degraded == pytest.approx(DEGRADED_LINE_SHARE, abs=0.08)
    assert {line.codec for line in lines if not line.is_clean} == {"ulaw", "alaw", "gsm"}
    for record in records:
        parse_speaker_id(record["speaker"])  # synthetic: every id parses back
    assert set(report.engines) == {"espeak", "flite", "festival"}
    assert sum(report.lines.values()) == 400
    assert report.lines["clean"] == pytest.approx(400 * (1 - DEGRADED_LINE_SHARE), abs=32)
    for record, line in zip(records, lines, strict=True):  # the label's codec, or clean
        assert line_codec(record["line"]) == ("clean" if line.is_clean else line.codec)
    again = write_day(tmp_path / "again", 1, 400, SEED, bad_rate=0.0, audio=False)
    assert (again.engines, again.lines) == (report.engines, report.lines)


def test_real_speech_calls_rotate_through_the_recordings(tmp_path: Path) -> None:
    from core.audio import real_speech_utterances
    from ingestion.simulator.calls import REAL_SPEECH_RATE, plan_calls

    real = {"ru": real_speech_utterances("ru"), "en": []}
    if not real["ru"]:
        pytest.skip("festvox-ru is not installed")
    with crm.connect(layout.crm_database(tmp_path)) as conn:
        customers = [c for c in crm.add_customers(conn, 1, 200, SEED) if c.language == "ru"]
    plans = plan_calls(SEED, 1, 600, customers, real, audio=True)
    spoken = [p.real_source for p in plans if p.real_source is not None]
    assert len(spoken) / len(plans) == pytest.approx(REAL_SPEECH_RATE, abs=0.06)
    assert len(set(spoken)) == len(spoken)  # no recording twice in a day
    assert all(p.record["intent"] == "out_of_scope" for p in plans if p.real_source)
