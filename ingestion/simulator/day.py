"""Write one simulated day of contact-center sources (see :mod:`ingestion.simulator.layout`).

:func:`write_day` writes the call exports (JSONL and CSV), one WAV per call, the CRM
changes of the day and the day manifest. Same (day, calls, seed, bad_rate, audio) -> the
same bytes: timestamps come from the simulated day, never from the clock.

``progress`` (optional) hears each stage as ``(stage, done, total)``: ``"calls"`` once the
calls are planned, ``"audio"`` after every rendered recording (the long stage), ``"exports"``,
``"crm"`` and ``"manifest"``. It only observes: the bytes written are the same with or
without it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.pii import PII_KINDS, pii_kinds
from core.telephony import line_codec
from ingestion.simulator import crm, defects
from ingestion.simulator import layout as lay
from ingestion.simulator.calls import CallPlan, RealUtterance, plan_calls
from ingestion.simulator.labels import mislabel

#: ``progress(stage, done, total)``: see the module docstring.
Progress = Callable[[str, int, int], None]


def _no_progress(stage: str, done: int, total: int) -> None:
    """The default ``progress``: nothing to report to."""


@dataclass
class DayReport:
    """What a simulated day holds (also the body of the day manifest)."""

    day: int
    date: str
    seed: int
    calls: int
    bad_rate: float
    audio: bool
    languages: dict[str, int]
    intents: dict[str, int]
    channels: dict[str, int]
    real_speech: int
    held_out_speakers: int
    defects: list[dict[str, Any]]
    defect_counts: dict[str, int]
    crm: dict[str, int]
    pii: dict[str, Any]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: calls whose intent label was shifted on purpose (``labels.mislabel``; 0 normally)
    mislabeled: int = 0
    #: calls per synthesis engine ("espeak", "flite", "festival", "festvox-ru" for real speech)
    engines: dict[str, int] = field(default_factory=dict)
    #: calls per telephone line codec ("clean", "ulaw", "alaw", "gsm")
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def bytes_written(self) -> int:
        return sum(f["bytes"] for f in self.files.values())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- audio


def _audio_functions() -> tuple[Callable[..., float], Callable[..., float], Callable[..., None]]:
    try:
        from core.audio import render_speech, telephone_copy, write_defective_wav
    except ImportError as err:  # pragma: no cover - audio.py ships with the package
        raise RuntimeError(f"audio rendering is unavailable ({err}); use --no-audio") from err
    return render_speech, telephone_copy, write_defective_wav


def _real_speech() -> dict[str, list[RealUtterance]]:
    from core.audio import real_speech_utterances

    return {lang: real_speech_utterances(lang) for lang in ("ru", "en")}


def _render_all(
    plans: list[CallPlan], planned: dict[int, str], folder: Path, progress: Progress = _no_progress
) -> None:
    """One WAV per call (defective where planned); sets each record's duration_s."""
    render_speech, telephone_copy, write_defective_wav = _audio_functions()
    from core.synthesis import close_festival_sessions

    folder.mkdir(parents=True, exist_ok=True)
    done, lock = [0], threading.Lock()
    for stale in folder.glob("*.wav"):
        stale.unlink()

    def render(plan: CallPlan) -> None:
        path = folder / plan.record["recording"]
        kind = planned.get(plan.index, "")
        if kind in defects.AUDIO_DEFECTS:
            write_defective_wav(defects.AUDIO_DEFECTS[kind], path)
        elif plan.real_source is not None:
            duration = telephone_copy(plan.real_source, path, line=plan.line)
            plan.record["duration_s"] = round(duration, 3)
        else:
            duration = render_speech(plan.record["transcript"], plan.speaker, path, line=plan.line)
            plan.record["duration_s"] = round(duration, 3)
        with lock:
            done[0] += 1
            progress("audio", done[0], len(plans))

    try:
        with ThreadPoolExecutor(max_workers=max(1, min(8, os.cpu_count() or 1))) as pool:
            list(pool.map(render, plans))
    finally:
        close_festival_sessions()  # the pool's threads are gone: so are their Festival processes


# --------------------------------------------------------------------------- exports


def _csv_row(record: dict[str, Any]) -> list[Any]:
    slots = record["slots"]
    return [
        json.dumps(slots, ensure_ascii=False)
        if name == "slots" and isinstance(slots, dict)
        else record[name]
        for name in lay.CALL_FIELDS
    ]


def _exports(
    plans: list[CallPlan], planned: dict[int, str], seed: str
) -> tuple[str, str, list[dict[str, Any]], list[dict[str, Any]]]:
    """(JSONL text, CSV text, written records, defect entries) with defects applied."""
    rng = random.Random(f"{seed}:corrupt")
    jsonl, out = [], io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(lay.CALL_FIELDS)
    records, listed = [], []
    for plan in plans:
        kind = planned.get(plan.index)
        record = defects.corrupt_record(rng, kind, plan.record) if kind else plan.record
        if kind == "duplicate_call_id":
            source = defects.duplicate_source(rng, plan.index, planned)
            record = dict(record, call_id=plans[source].call_id)
        line = json.dumps(record, ensure_ascii=False)
        row = _csv_row(record)
        if kind == "truncated_line":
            line = defects.truncate(rng, line)
            row = row[: rng.randint(3, len(row) - 2)]
        jsonl.append(line)
        writer.writerow(row)
        records.append(record)
        if kind:
            listed.append(
                {
                    "call_id": record["call_id"],
                    "kind": kind,
                    "line": plan.index + 1,
                    "csv_line": plan.index + 2,
                    "recording": plan.record["recording"],
                }
            )
    text = "".join(line + "\n" for line in jsonl)
    return text, out.getvalue(), records, listed


def _write(path: Path, data: bytes) -> None:
    """Write atomically (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _file_entry(data: bytes) -> dict[str, Any]:
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


# --------------------------------------------------------------------------- personal data


def _pii_summary(
    records: list[dict[str, Any]], tickets: list[dict[str, Any]], new_customers: int
) -> dict[str, Any]:
    """Which records carry which kinds of personal data (for redaction tests)."""
    listed: list[dict[str, Any]] = []
    counts: dict[str, Counter[str]] = {"calls": Counter(), "tickets": Counter()}
    for line, record in enumerate(records, 1):
        for name in ("transcript", "bot_response"):
            value = record.get(name)
            kinds = pii_kinds(value) if isinstance(value, str) else []
            if kinds:
                entry = {"source": "calls", "id": record["call_id"], "line": line, "field": name}
                listed.append(entry | {"kinds": kinds})
                counts["calls"].update(kinds)
    for ticket in tickets:
        kinds = pii_kinds(ticket["note"])
        if kinds:
            entry = {"source": "tickets", "id": ticket["ticket_id"], "field": "note"}
            listed.append(entry | {"kinds": kinds})
            counts["tickets"].update(kinds)
    return {
        "kinds": list(PII_KINDS),
        "counts": {
            "calls": dict(sorted(counts["calls"].items())),
            "tickets": dict(sorted(counts["tickets"].items())),
            "customers": {k: new_customers for k in ("email", "passport", "person_name", "phone")},
        },
        "records": listed,
    }


# --------------------------------------------------------------------------- the day


def write_day(
    root: Path,
    day: int,
    calls: int,
    seed: int,
    bad_rate: float = 0.03,
    audio: bool = True,
    progress: Progress | None = None,
    mislabel_rate: float = 0.0,
) -> DayReport:
    """Write day ``day`` of the sources under ``root``; returns what it wrote.

    ``progress`` hears the stages as they finish (see the module docstring);
    ``mislabel_rate`` plants label noise no data test can see (:mod:`.labels`)."""
    progress = progress or _no_progress
    if calls < 1:
        raise ValueError(f"calls must be >= 1, got {calls}")
    root = Path(root)
    the_date = lay.day_date(day)
    planned = defects.plan(f"{seed}:{day}", calls, bad_rate, audio)
    real = _real_speech() if audio else {}
    with crm.connect(lay.crm_database(root)) as conn:
        # older rows are edited first, so the day's calls and ticket notes see the customers as
        # edited today both on the first run and on a re-run of the day (idempotent re-runs)
        updates = crm.update_older_rows(conn, day, seed)
        new_count = crm.new_customer_count(day, calls)
        customers = crm.add_customers(conn, day, new_count, seed)
        plans = plan_calls(seed, day, calls, customers, real, audio)
        shifted = mislabel([p.record for p in plans], mislabel_rate, f"{seed}:{day}")
        progress("calls", len(plans), len(plans))
        if audio:
            _render_all(plans, planned, lay.recordings_dir(root, day), progress)
        jsonl, csv_text, records, listed = _exports(plans, planned, f"{seed}:{day}")
        progress("exports", 1, 1)
        refs = [crm.CallRef(p.call_id, p.customer, p.record["intent"], p.ended_s) for p in plans]
        tickets = crm.add_tickets(conn, day, refs, seed)
        progress("crm", 1, 1)
    conn.close()

    files: dict[str, dict[str, Any]] = {}
    for path, text in ((lay.calls_jsonl(root, day), jsonl), (lay.calls_csv(root, day), csv_text)):
        data = text.encode("utf-8")
        _write(path, data)
        files[path.relative_to(root).as_posix()] = _file_entry(data)
    if audio:
        wavs = sorted(lay.recordings_dir(root, day).glob("*.wav"))
        size = sum(p.stat().st_size for p in wavs)
        files[lay.recordings_dir(root, day).relative_to(root).as_posix()] = {
            "bytes": size,
            "files": len(wavs),
        }
    report = DayReport(
        day=day,
        date=the_date.isoformat(),
        seed=seed,
        calls=calls,
        bad_rate=bad_rate,
        audio=audio,
        languages=dict(sorted(Counter(p.record["language"] for p in plans).items())),
        intents=dict(sorted(Counter(p.record["intent"] for p in plans).items())),
        channels=dict(sorted(Counter(p.record["channel"] for p in plans).items())),
        real_speech=sum(p.real_source is not None for p in plans),
        held_out_speakers=sum(p.speaker.held_out for p in plans),
        defects=listed,
        defect_counts=dict(sorted(Counter(d["kind"] for d in listed).items())),
        crm={
            "customers_new": new_count,
            "customers_updated": len(updates.customers),
            "tickets_new": len(tickets),
            "tickets_updated": len(updates.tickets),
        },
        pii=_pii_summary(records, tickets + updates.tickets, new_count),
        files=files,
        mislabeled=shifted,
        engines=dict(sorted(Counter(p.speaker.engine for p in plans).items())),
        lines=dict(sorted(Counter(line_codec(p.record["line"]) for p in plans).items())),
    )
    manifest = json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"
    _write(lay.day_manifest(root, day), manifest.encode("utf-8"))
    progress("manifest", 1, 1)
    return report
