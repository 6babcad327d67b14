"""The simulated bank and its REST API (ingestion/simulator/bank.py, bank_service.py)."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from core import pii
from core.language import ACCOUNT_TYPES
from core.net import free_port
from ingestion.simulator import crm
from ingestion.simulator.bank import bank_database, street_pairs
from ingestion.simulator.bank_service import BankServer, start_in_thread
from ingestion.simulator.layout import crm_database

REPO = Path(__file__).resolve().parents[2]
SEED = 11


def make_crm(root: Path, customers: int = 6) -> list[dict[str, Any]]:
    """Day 1 of the simulator's CRM under ``root`` (customers only); returns their rows."""
    with contextlib.closing(crm.connect(crm_database(root))) as conn:
        rows = [c.row for c in crm.add_customers(conn, 1, customers, SEED)]
        conn.commit()
    return rows


@pytest.fixture
def bank(tmp_path: Path) -> Iterator[tuple[str, list[dict[str, Any]], Path]]:
    customers = make_crm(tmp_path)
    server, base = start_in_thread(tmp_path)
    try:
        yield base, customers, tmp_path
    finally:
        server.stop()


def call(method: str, url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    response = httpx.request(method, url, timeout=10, **kwargs)
    return response.status_code, response.json()


def get(url: str, **params: Any) -> tuple[int, dict[str, Any]]:
    return call("GET", url, params=params)


def test_health(bank) -> None:
    base, _, _ = bank
    status, body = get(f"{base}/health")
    assert status == 200
    assert body["status"] == "ok" and body["crm"] is True


def test_accounts_open_on_first_access_and_keep_their_balances(bank) -> None:
    base, customers, root = bank
    customer_id = customers[0]["customer_id"]
    status, body = get(f"{base}/api/v1/customers/{customer_id}/accounts")
    assert status == 200
    assert [a["account_type"] for a in body["accounts"]] == list(ACCOUNT_TYPES)
    for account in body["accounts"]:
        assert account["currency"] == "RUB" and account["balance_kopecks"] >= 0
        assert len(account["account_id"]) == 20 and account["account_id"].isdigit()
    assert bank_database(root).is_file()
    savings = get(f"{base}/api/v1/customers/{customer_id}/accounts/savings")[1]
    assert savings == body["accounts"][1]
    customer = get(f"{base}/api/v1/customers/{customer_id}")[1]
    assert customer["city"] == customers[0]["city"]


def test_opening_balances_are_the_same_in_a_new_bank(bank, tmp_path_factory) -> None:
    base, customers, _ = bank
    other_root = tmp_path_factory.mktemp("other")
    make_crm(other_root)
    server, other = start_in_thread(other_root)
    try:
        for customer in customers:
            path = f"/api/v1/customers/{customer['customer_id']}/accounts"
            assert get(base + path) == get(other + path)
    finally:
        server.stop()
    balances = {
        get(f"{base}/api/v1/customers/{c['customer_id']}/accounts/checking")[1]["balance_kopecks"]
        for c in customers
    }
    assert len(balances) > 1  # derived from the customer, not a constant


def test_rates_are_deterministic_and_plausible(bank) -> None:
    base, _, _ = bank
    plausible = {"USD": (80, 110), "EUR": (85, 120), "CNY": (10, 16)}
    for currency, (low, high) in plausible.items():
        days = [date(2026, 1, d).isoformat() for d in (1, 2, 15)]
        answers = [get(f"{base}/api/v1/rates", currency=currency, date=d)[1] for d in days]
        for answer in answers:
            assert low < answer["buy"] < answer["sell"] < high
        assert len({(a["buy"], a["sell"]) for a in answers}) == 3
        again = get(f"{base}/api/v1/rates", currency=currency.lower(), date=days[0])
        assert again == (200, answers[0])
    status, body = get(f"{base}/api/v1/rates", currency="USD")
    assert status == 200 and body["date"]  # today by default


def test_branches_in_every_city(bank) -> None:
    base, _, _ = bank
    streets = {"ru": pii.lexicon()["streets"]["ru"], "en": pii.lexicon()["streets"]["en"]}
    for city in pii.lexicon()["cities"]:
        status, body = get(f"{base}/api/v1/branches", city=city)
        assert status == 200 and 1 <= len(body["branches"]) <= 3
        for branch in body["branches"]:
            assert branch["city"] == city
            street_ru, number = branch["address"]["ru"].rsplit(", ", 1)
            assert street_ru in streets["ru"]
            assert branch["address"]["en"].split(" ", 1) == [
                number,
                dict(street_pairs())[street_ru],
            ]
            assert branch["hours"]["ru"] and branch["hours"]["en"]


def test_every_english_street_has_its_russian_name() -> None:
    assert len(street_pairs()) == len(pii.lexicon()["streets"]["en"])


def test_loan_offer_and_operator_wait(bank) -> None:
    base, _, _ = bank
    status, offer = get(f"{base}/api/v1/loans/offer", amount=300000)
    assert status == 200
    assert offer == {
        "amount": 300000,
        "term_months": 36,
        "annual_rate": 19.9,
        "monthly_payment": 9400,
    }
    assert get(f"{base}/api/v1/loans/offer", amount=2_000_000)[1]["annual_rate"] == 14.9
    midday = get(f"{base}/api/v1/operators/wait", at="2026-01-05T13:00:00+03:00")[1]
    night = get(f"{base}/api/v1/operators/wait", at="2026-01-05T03:00:00+03:00")[1]
    assert midday["minutes"] > night["minutes"] >= 1
    assert get(f"{base}/api/v1/operators/wait")[0] == 200


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("rates", {"currency": "GBP"}, "currency"),
        ("rates", {"currency": "RUB"}, "currency"),
        ("rates", {}, "currency"),
        ("rates", {"currency": "USD", "date": "05.01.2026"}, "date"),
        ("rates", {"currency": "USD", "day": "x"}, "day"),
        ("branches", {}, "city"),
        ("loans/offer", {"amount": "lots"}, "amount"),
        ("loans/offer", {"amount": 0}, "amount"),
        ("operators/wait", {"at": "noon"}, "at"),
    ],
)
def test_bad_parameters_answer_400(bank, path: str, params: dict, parameter: str) -> None:
    base, _, _ = bank
    status, body = get(f"{base}/api/v1/{path}", **params)
    assert status == 400
    assert body["parameter"] == parameter and body["error"]


def test_unknown_customer_city_and_endpoint_answer_404(bank) -> None:
    base, customers, _ = bank
    assert get(f"{base}/api/v1/customers/CUST-999999/accounts")[0] == 404
    status, body = call("POST", f"{base}/api/v1/customers/CUST-999999/cards/1234/block")
    assert (status, body["parameter"]) == (404, "customer_id")
    status, body = get(f"{base}/api/v1/branches", city="Atlantis")
    assert (status, body["parameter"]) == (404, "city")
    assert get(f"{base}/api/v1/loans")[0] == 404
    customer_id = customers[0]["customer_id"]
    status, body = get(f"{base}/api/v1/customers/{customer_id}/accounts/brokerage")
    assert (status, body["parameter"]) == (400, "account_type")


def test_tickets_are_idempotent_per_session(bank) -> None:
    base, customers, _ = bank
    url = f"{base}/api/v1/customers/{customers[0]['customer_id']}/tickets"
    first = call("POST", url, json={"subject": "Complaint", "session_id": "s-1"})
    again = call("POST", url, json={"subject": "Complaint", "session_id": "s-1"})
    other = call("POST", url, json={"subject": "Complaint", "session_id": "s-2"})
    assert first[0] == 201 and first[1]["created"] is True
    assert again[0] == 200 and again[1]["created"] is False
    assert again[1]["ticket_id"] == first[1]["ticket_id"]
    assert other[1]["ticket_id"] != first[1]["ticket_id"]
    assert first[1]["ticket_id"].startswith("CMP-") and len(first[1]["ticket_id"]) == 10
    assert call("POST", url, json={"session_id": "s-3"})[1]["parameter"] == "subject"
    assert call("POST", url, content=b"{not json")[1]["parameter"] == "body"


def test_concurrent_requests(bank) -> None:
    base, customers, root = bank
    customer_id = customers[1]["customer_id"]
    url = f"{base}/api/v1/customers/{customer_id}/tickets"

    def post(session: str) -> tuple[int, dict[str, Any]]:
        return call("POST", url, json={"subject": "Complaint", "session_id": session})

    with ThreadPoolExecutor(max_workers=12) as pool:
        retries = list(pool.map(post, ["retried"] * 24))
        distinct = list(pool.map(post, [f"s-{n}" for n in range(24)]))
        reads = list(
            pool.map(
                lambda c: get(f"{base}/api/v1/customers/{c['customer_id']}/accounts"),
                customers * 4,
            )
        )
    assert sorted(status for status, _ in retries) == [200] * 23 + [201]
    assert len({body["ticket_id"] for _, body in retries}) == 1
    assert len({body["ticket_id"] for _, body in distinct}) == 24
    assert all(status == 200 and len(body["accounts"]) == 4 for status, body in reads)
    with sqlite3.connect(bank_database(root)) as conn:
        assert conn.execute("SELECT count(*) FROM tickets").fetchone() == (25,)
        assert conn.execute("SELECT count(*) FROM accounts").fetchone() == (4 * len(customers),)


def test_card_operations(bank) -> None:
    base, customers, _ = bank
    cards = f"{base}/api/v1/customers/{customers[0]['customer_id']}/cards"
    status, blocked = call("POST", f"{cards}/4321/block")
    assert status == 200
    assert (blocked["state"], blocked["previous_state"]) == ("blocked", "active")
    active = call("POST", f"{cards}/4321/activate")[1]
    assert (active["state"], active["previous_state"]) == ("active", "blocked")
    first, second = call("POST", f"{cards}/4321/pin"), call("POST", f"{cards}/4321/pin")
    assert first[0] == 201 and first[1]["request_id"] != second[1]["request_id"]
    status, body = call("POST", f"{cards}/43x1/block")
    assert (status, body["parameter"]) == (400, "last4")


def test_missing_crm_answers_503_for_customers_only(tmp_path: Path) -> None:
    server, base = start_in_thread(tmp_path)
    try:
        status, body = get(f"{base}/api/v1/customers/CUST-001001/accounts")
        assert status == 503 and "not found" in body["error"]
        assert get(f"{base}/api/v1/rates", currency="EUR")[0] == 200
    finally:
        server.stop()


def test_stop_closes_the_port(tmp_path: Path) -> None:
    server, base = start_in_thread(tmp_path)
    assert isinstance(server, BankServer)
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/health", timeout=2)


def test_main_serves_until_sigterm(tmp_path: Path) -> None:
    customers = make_crm(tmp_path)
    port, env = free_port(), {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "ingestion.simulator.bank_service", "--sources", str(tmp_path)]
    process = subprocess.Popen([*command, "--port", str(port)], env=env, cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = get(
                    f"http://127.0.0.1:{port}/api/v1/customers/{customers[0]['customer_id']}"
                )
                break
            except httpx.TransportError:
                assert process.poll() is None, "the bank service exited early"
                assert time.monotonic() < deadline, "the bank service did not come up"
                time.sleep(0.1)
        assert status == 200 and body["customer_id"] == customers[0]["customer_id"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
