"""Where the simulated contact-center sources live, and the shape of their records.

The simulator writes one day at a time under a sources root (default
``$VOICEOPS_HOME/sources``); day N adds data on top of days 1..N-1::

    crm/crm.sqlite3                                  the CRM's own database (served by the CRM API)
    call_exports/dt=YYYY-MM-DD/calls.jsonl           one JSON object per call (see CALL_FIELDS)
    call_exports/dt=YYYY-MM-DD/calls.csv             the same day as CSV (slots as a JSON string)
    recordings/dt=YYYY-MM-DD/<call_id>.wav           the customer's words, 8 kHz mono telephone band
    manifest/dt=YYYY-MM-DD.json                      what the day holds, incl. planted bad records

Bad records are planted on purpose (rate configurable) so that ingestion has something to
quarantine; the day manifest lists every one with its defect, so tests can check that each
lands in quarantine with a reason.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

#: Day 1 of the simulation.
EPOCH = date(2026, 1, 1)

#: Fields of a call export record (JSONL and CSV carry the same fields).
CALL_FIELDS = (
    "call_id",  # str, unique, e.g. "C20260101-000042"
    "customer_id",  # str, a CRM customer id, e.g. "CUST-000123"
    "started_at",  # ISO 8601 timestamp with timezone
    "language",  # "ru" | "en"
    "channel",  # "phone" | "mobile_app" | "web"
    "duration_s",  # float, length of the recording
    "transcript",  # the agent's reference transcript of the customer's words
    "intent",  # an intent of shared/taxonomy.yaml
    "slots",  # {slot name: value} (taxonomy slots of that intent)
    "bot_response",  # the response the bot gave
    "recording",  # "<call_id>.wav" in recordings/dt=<date>/ ("" when no audio)
    "speaker",  # who spoke: a core.voices speaker id ("espeak:...", "flite:...", "festival:...")
    # or "festvox-ru:<id>" (a real recording)
    "sample_rate",  # int, Hz, of the WAV
    "line",  # the telephone line heard through: "clean" or a core.telephony label ("gsm:band=...")
)

#: CRM tables served by the CRM API (``updated_at`` is the incremental cursor).
CUSTOMER_FIELDS = (
    "customer_id",
    "full_name",
    "phone",
    "email",
    "passport",
    "language",
    "segment",
    "city",
    "created_at",
    "updated_at",
)
TICKET_FIELDS = (
    "ticket_id",
    "customer_id",
    "call_id",
    "status",
    "subject",
    "note",  # free text written by an agent: contains personal data, as in real life
    "created_at",
    "updated_at",
)


def day_date(day: int) -> date:
    """The calendar date of simulation day ``day`` (1-based)."""
    if day < 1:
        raise ValueError(f"day must be >= 1, got {day}")
    return EPOCH + timedelta(days=day - 1)


def partition(day: int) -> str:
    return f"dt={day_date(day).isoformat()}"


def calls_jsonl(root: Path, day: int) -> Path:
    return root / "call_exports" / partition(day) / "calls.jsonl"


def calls_csv(root: Path, day: int) -> Path:
    return root / "call_exports" / partition(day) / "calls.csv"


def recordings_dir(root: Path, day: int) -> Path:
    return root / "recordings" / partition(day)


def crm_database(root: Path) -> Path:
    return root / "crm" / "crm.sqlite3"


def day_manifest(root: Path, day: int) -> Path:
    return root / "manifest" / f"{partition(day)}.json"


#: The CRM's own database (SQLite), written by the simulator and served by the CRM API.
#: Timestamps are ISO 8601 UTC strings ("2026-01-01T09:30:00+00:00"), so they sort as text.
CRM_SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    customer_id TEXT PRIMARY KEY,
    full_name TEXT NOT NULL,
    phone TEXT NOT NULL,
    email TEXT NOT NULL,
    passport TEXT NOT NULL,
    language TEXT NOT NULL,
    segment TEXT NOT NULL,
    city TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    call_id TEXT,
    status TEXT NOT NULL,
    subject TEXT NOT NULL,
    note TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS customers_updated ON customers (updated_at, customer_id);
CREATE INDEX IF NOT EXISTS tickets_updated ON tickets (updated_at, ticket_id);
"""
