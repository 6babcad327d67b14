"""The CRM REST API over the CRM SQLite database (ingestion/simulator/crm_service.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingestion.simulator.crm_service import running_crm_service
from ingestion.simulator.layout import CRM_SCHEMA, CUSTOMER_FIELDS, TICKET_FIELDS, crm_database

REPO = Path(__file__).resolve().parents[2]


def ts(day: int, minute: int) -> str:
    """The DB's timestamp form: ISO 8601 UTC with ``+00:00``."""
    return f"2026-01-{day:02d}T{minute // 60:02d}:{minute % 60:02d}:00+00:00"


def customer(n: int, updated_at: str, city: str = "Moscow") -> dict[str, Any]:
    return {
        "customer_id": f"CUST-{n:06d}",
        "full_name": f"Customer {n}",
        "phone": f"+7900{n:07d}",
        "email": f"c{n}@example.org",
        "passport": f"45 {n:06d}",
        "language": "ru" if n % 2 else "en",
        "segment": "mass",
        "city": city,
        "created_at": ts(1, 0),
        "updated_at": updated_at,
    }


def ticket(n: int, updated_at: str, status: str = "open") -> dict[str, Any]:
    return {
        "ticket_id": f"T-{n:06d}",
        "customer_id": f"CUST-{n:06d}",
        "call_id": f"C20260101-{n:06d}" if n % 3 else None,
        "status": status,
        "subject": "card blocked",
        "note": f"customer {n} called",
        "created_at": ts(1, 0),
        "updated_at": updated_at,
    }


def upsert(db: Path, table: str, rows: list[dict[str, Any]]) -> None:
    fields = CUSTOMER_FIELDS if table == "customers" else TICKET_FIELDS
    with sqlite3.connect(db) as con:
        con.executemany(
            f"INSERT OR REPLACE INTO {table} ({', '.join(fields)}) "
            f"VALUES ({', '.join('?' * len(fields))})",
            [tuple(row[field] for field in fields) for row in rows],
        )
    con.close()


def make_crm(root: Path, customers: int, tickets: int) -> Path:
    """A CRM DB under ``root`` (the sources layout): rows updated a minute apart on day 1."""
    db = crm_database(root)
    db.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(db) as con:
        con.executescript(CRM_SCHEMA)
    con.close()
    upsert(db, "customers", [customer(n, ts(1, n)) for n in range(customers)])
    upsert(db, "tickets", [ticket(n, ts(1, n)) for n in range(tickets)])
    return db


def get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def all_pages(base: str, endpoint: str, query: str = "") -> tuple[list[dict], int]:
    records, pages, token = [], 0, None
    while True:
        params = query + (f"&page_token={token}" if token else "")
        status, body = get(f"{base}/api/v1/{endpoint}?{params}")
        assert status == 200, body
        records += body["data"]
        pages += 1
        token = body["next_page"]
        if token is None:
            return records, pages


@pytest.fixture
def crm(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    db = make_crm(tmp_path / "sources", customers=25, tickets=10)
    with running_crm_service(db) as base_url:
        yield base_url, db


def test_health(crm: tuple[str, Path]) -> None:
    base, _ = crm
    assert get(f"{base}/health") == (200, {"status": "ok", "database": True})


def test_paginates_in_updated_at_then_id_order(crm: tuple[str, Path]) -> None:
    base, db = crm
    # ties on updated_at across a page boundary: keyset pagination must not skip or repeat
    upsert(db, "customers", [customer(n, ts(2, 0)) for n in (3, 7, 11, 20)])
    records, pages = all_pages(base, "customers", "page_size=4")
    assert pages == 7  # 25 records, 4 per page
    keys = [(r["updated_at"], r["customer_id"]) for r in records]
    assert keys == sorted(keys)
    assert len({r["customer_id"] for r in records}) == 25
    assert set(records[0]) == set(CUSTOMER_FIELDS)
    assert [r["customer_id"] for r in records[-4:]] == [
        "CUST-000003",
        "CUST-000007",
        "CUST-000011",
        "CUST-000020",
    ]


def test_default_page_size_and_last_page(crm: tuple[str, Path]) -> None:
    base, _ = crm
    status, body = get(f"{base}/api/v1/tickets")
    assert status == 200
    assert len(body["data"]) == 10
    assert body["next_page"] is None


def test_updated_since_is_inclusive(crm: tuple[str, Path]) -> None:
    base, _ = crm
    records, _ = all_pages(base, "customers", "updated_since=2026-01-01T00:20:00%2B00:00")
    assert [r["customer_id"] for r in records] == [f"CUST-{n:06d}" for n in range(20, 25)]


@pytest.mark.parametrize(
    "since", ["2026-01-01T00:20:00Z", "2026-01-01T00:20:00%2B0000", "2026-01-01T03:20:00%2B03:00"]
)
def test_updated_since_accepts_iso_forms(crm: tuple[str, Path], since: str) -> None:
    base, _ = crm
    status, body = get(f"{base}/api/v1/customers?updated_since={since}")
    assert status == 200
    assert body["data"][0]["customer_id"] == "CUST-000020"
    assert len(body["data"]) == 5


def test_filter_and_pagination_together(crm: tuple[str, Path]) -> None:
    base, db = crm
    upsert(db, "tickets", [ticket(2, ts(3, 5), status="closed"), ticket(40, ts(3, 1))])
    records, pages = all_pages(base, "tickets", "updated_since=2026-01-01T00:08:00Z&page_size=1")
    assert [r["ticket_id"] for r in records] == ["T-000008", "T-000009", "T-000040", "T-000002"]
    assert pages == 4
    assert records[-1]["status"] == "closed"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("page_size=0", "page_size"),
        ("page_size=1001", "page_size"),
        ("page_size=ten", "page_size"),
        ("updated_since=yesterday", "updated_since"),
        ("updated_since=", "updated_since"),
        ("page_token=%21%21not-a-token", "page_token"),
        ("page_token=WzFd", "page_token"),  # base64 of [1]: valid JSON, not a token
        ("page_size=5&page_size=6", "page_size"),
        ("limit=5", "limit"),
    ],
)
def test_bad_parameters_answer_400(crm: tuple[str, Path], query: str, parameter: str) -> None:
    base, _ = crm
    status, body = get(f"{base}/api/v1/customers?{query}")
    assert status == 400
    assert body["parameter"] == parameter
    assert body["error"]


def test_unknown_endpoint_and_missing_database(tmp_path: Path) -> None:
    with running_crm_service(tmp_path / "absent.sqlite3") as base:
        assert get(f"{base}/api/v1/accounts")[0] == 404
        assert get(f"{base}/health") == (200, {"status": "ok", "database": False})
        status, body = get(f"{base}/api/v1/customers")
        assert status == 503
        assert "not found" in body["error"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_runs_until_sigterm(tmp_path: Path) -> None:
    db = make_crm(tmp_path / "sources", customers=2, tickets=1)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "ingestion.simulator.crm_service", "--db", str(db)]
    process = subprocess.Popen([*command, "--port", str(port)], env=env, cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = get(f"http://127.0.0.1:{port}/api/v1/customers")
                break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, "the CRM service exited early"
                assert time.monotonic() < deadline, "the CRM service did not come up"
                time.sleep(0.1)
        assert status == 200
        assert len(body["data"]) == 2
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
