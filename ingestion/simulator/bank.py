# ruff: noqa: RUF001, RUF002 (Russian opening hours use Cyrillic letters on purpose)
"""The simulated core banking system: accounts, rates, branches, loans, queue, tickets, cards.

Derived deterministically from the simulator's CRM (``crm/crm.sqlite3``, read only) and kept in
its own SQLite database ``bank/bank.sqlite3`` under the same sources root (WAL mode: readers
never wait for the writer; every write is one ``BEGIN IMMEDIATE`` transaction, so concurrent
requests serialize instead of failing). A customer's accounts are created on first access with
opening balances seeded from a hash of the customer id, so the same customer always starts with
the same money; a customer missing from the CRM is refused. Rates, branches, loan offers and the
operator queue are pure functions of their inputs (date, city, amount, hour).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from core import pii
from core.errors import VoiceOpsError
from core.language import ACCOUNT_TYPES
from ingestion.simulator.layout import crm_database

#: The bank's local time (Moscow): the operator queue follows it.
BANK_TIME = timezone(timedelta(hours=3), "MSK")
#: Currencies the bank exchanges, with a plausible central rate in rubles.
CENTRAL_RATES = {"USD": 92.0, "EUR": 100.0, "CNY": 12.7}
LOAN_TERM_MONTHS = 36
MAX_LOAN = 30_000_000
#: (smallest amount, annual rate %): bigger loans get a lower rate.
LOAN_RATES = ((1_000_000, 14.9), (500_000, 17.5), (200_000, 19.9), (50_000, 21.9), (0, 24.5))
CARD_STATES = {"block": "blocked", "activate": "active"}
#: Balance-account prefixes of Russian account numbers, per account type.
ACCOUNT_PREFIXES = {"checking": "40817", "savings": "42301", "credit": "45507", "deposit": "42305"}
#: Highest opening balance in rubles per account type (times the segment's factor).
OPENING_CEILINGS = {
    "checking": 300_000,
    "savings": 1_000_000,
    "credit": 150_000,
    "deposit": 2_000_000,
}
SEGMENT_FACTORS = {"mass": 1, "premium": 5, "private": 20, "business": 10}
#: Opening hours: (kind, open, close, Saturday open, Saturday close); only "weekdays" has Saturday.
SCHEDULES = (("weekdays", 9, 20, 10, 17), ("daily", 9, 21, 0, 0), ("workweek", 9, 19, 0, 0))

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    account_type TEXT NOT NULL,
    currency TEXT NOT NULL,
    balance_kopecks INTEGER NOT NULL,
    UNIQUE (customer_id, account_type)
);
CREATE TABLE IF NOT EXISTS rates (
    date TEXT NOT NULL, currency TEXT NOT NULL,
    buy_kopecks INTEGER NOT NULL, sell_kopecks INTEGER NOT NULL,
    PRIMARY KEY (date, currency)
);
CREATE TABLE IF NOT EXISTS branches (
    branch_id TEXT PRIMARY KEY, city TEXT NOT NULL,
    address_ru TEXT NOT NULL, address_en TEXT NOT NULL,
    hours_ru TEXT NOT NULL, hours_en TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, session_id TEXT NOT NULL,
    subject TEXT NOT NULL, created_at TEXT NOT NULL,
    UNIQUE (customer_id, session_id)
);
CREATE TABLE IF NOT EXISTS cards (
    customer_id TEXT NOT NULL, last4 TEXT NOT NULL, state TEXT NOT NULL,
    updated_at TEXT NOT NULL, PRIMARY KEY (customer_id, last4)
);
CREATE TABLE IF NOT EXISTS pin_requests (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, customer_id TEXT NOT NULL,
    last4 TEXT NOT NULL, created_at TEXT NOT NULL
);
"""


class BankError(VoiceOpsError):
    """A request the bank refuses or cannot serve."""


class UnknownCustomer(BankError):
    """The customer id is not in the CRM."""


class UnknownCity(BankError):
    """The city is not one of the lexicon's cities (the bank has no branch there)."""


class BadValue(BankError, ValueError):
    """A value the bank cannot accept; ``parameter`` names it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter


class BadCurrency(BadValue):
    """A currency the bank does not exchange."""


class CrmUnavailable(BankError):
    """The CRM database is missing or not ready, so no customer can be checked."""


def bank_database(sources_root: Path) -> Path:
    return Path(sources_root) / "bank" / "bank.sqlite3"


def unit(*key: object) -> float:
    """A deterministic number in [0, 1) from ``key`` (stable across runs and processes)."""
    digest = hashlib.sha256(":".join(map(str, key)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- pure products


def exchange_rate(currency: str, day: date) -> tuple[int, int]:
    """(buy, sell) in kopecks per unit of ``currency`` on ``day``; buy < sell."""
    if currency not in CENTRAL_RATES:
        raise BadCurrency(
            "currency", f"the bank exchanges {sorted(CENTRAL_RATES)}, not {currency!r}"
        )
    drift = 0.03 * math.sin(day.toordinal() / 9 + unit(currency) * 6.3)  # slow, bounded wander
    central = CENTRAL_RATES[currency] * (1 + drift + 0.004 * (unit(currency, day) - 0.5))
    spread = 0.02 + 0.01 * unit("spread", currency, day)
    buy = round(central * (1 - spread) * 100)
    return buy, max(buy + 1, round(central * (1 + spread) * 100))


def loan_offer(amount: int) -> dict[str, Any]:
    """Annual rate (%) and monthly payment (rubles) for ``amount`` rubles over 36 months."""
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_LOAN:
        raise BadValue("amount", f"must be a whole number of rubles in 1..{MAX_LOAN}")
    rate = next(rate for floor, rate in LOAN_RATES if amount >= floor)
    payment = max(100, int(round(amount * (1 + rate / 150) / LOAN_TERM_MONTHS, -2)))
    return {
        "amount": amount,
        "term_months": LOAN_TERM_MONTHS,
        "annual_rate": rate,
        "monthly_payment": payment,
    }


def operator_wait(moment: datetime) -> int:
    """Minutes a caller waits for an agent at ``moment``: 1 at night, about 9 at 13:00."""
    local = moment.astimezone(BANK_TIME) if moment.tzinfo else moment
    hour = local.hour + local.minute / 60
    return 1 + round(8 * math.exp(-(((hour - 13) / 3.5) ** 2)))


@lru_cache(maxsize=1)
def street_pairs() -> tuple[tuple[str, str], ...]:
    """(Russian, English) names of the same street: the lexicon's lists matched by translit."""
    lex = pii.lexicon()
    translit = lex["translit"]
    pairs = []
    for english in lex["streets"]["en"]:
        name, avenue = english.split()[0].lower(), english.endswith("Avenue")
        for russian in lex["streets"]["ru"]:
            words = [
                "".join(translit.get(c, c) for c in w.lower()).replace("iy", "y")  # -ский: -sky
                for w in russian.split()
            ]
            if ("проспект" in russian) == avenue and any(w.startswith(name) for w in words):
                pairs.append((russian, english))
                break
    return tuple(pairs)


def hours_text(schedule: tuple[str, int, int, int, int], language: str) -> str:
    """Opening hours in the bot's wording ("по будням с 9:00 до 20:00, в субботу ...")."""
    kind, opens, closes, sat_opens, sat_closes = schedule
    week = f"с {opens}:00 до {closes}:00" if language == "ru" else f"from {opens}:00 to {closes}:00"
    if kind == "daily":
        return f"ежедневно {week}" if language == "ru" else f"daily {week}"
    if kind == "workweek":
        return (
            f"с понедельника по пятницу {week}" if language == "ru" else f"Monday to Friday {week}"
        )
    if language == "ru":
        return f"по будням {week}, в субботу с {sat_opens}:00 до {sat_closes}:00"
    return f"on weekdays {week} and on Saturdays from {sat_opens}:00 to {sat_closes}:00"


def city_branches(city: str) -> list[dict[str, str]]:
    """The branches of ``city`` (1 to 3, the main one first), derived from the city name."""
    cities = pii.lexicon()["cities"]
    if city not in cities:
        raise UnknownCity(f"no branch in {city!r}: not a city of the lexicon")
    pairs, code = street_pairs(), hashlib.sha256(city.encode()).hexdigest()[:4].upper()
    rows = []
    for n in range(1 + int(unit("branches", city) * 3)):
        street_ru, street_en = pairs[int(unit("street", city, n) * len(pairs))]
        number = 1 + int(unit("number", city, n) * 120)
        schedule = SCHEDULES[int(unit("hours", city, n) * len(SCHEDULES))]
        rows.append(
            {
                "branch_id": f"BR-{code}-{n + 1}",
                "city": city,
                "address_ru": f"{street_ru}, {number}",
                "address_en": f"{number} {street_en}",
                "hours_ru": hours_text(schedule, "ru"),
                "hours_en": hours_text(schedule, "en"),
            }
        )
    return rows


def opening_accounts(customer: dict[str, Any]) -> list[dict[str, Any]]:
    """A CRM customer's accounts with their opening balances (the same on every run)."""
    customer_id = customer["customer_id"]
    factor = SEGMENT_FACTORS.get(customer.get("segment", "mass"), 1)
    rows = []
    for kind in ACCOUNT_TYPES:
        number = int(unit("account", customer_id, kind) * 10**12)
        ceiling = OPENING_CEILINGS[kind] * factor * 100
        rows.append(
            {
                "account_id": f"{ACCOUNT_PREFIXES[kind]}810{number:012d}",
                "customer_id": customer_id,
                "account_type": kind,
                "currency": "RUB",
                "balance_kopecks": int(unit("balance", customer_id, kind) ** 2 * ceiling),
            }
        )
    return rows


# --------------------------------------------------------------------------- the database


class Bank:
    """The bank's database over a sources root; safe to share between threads."""

    def __init__(self, sources_root: Path, database: Path | None = None) -> None:
        self.crm_path = crm_database(Path(sources_root))
        self.path = Path(database) if database is not None else bank_database(sources_root)
        self._ready = False
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection of its own per call (sqlite3 connections are not shared by threads)."""
        with self._lock:
            if not self._ready:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with contextlib.closing(sqlite3.connect(self.path)) as con:
                    con.execute("PRAGMA journal_mode=WAL")
                    con.executescript(SCHEMA)
                self._ready = True
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        con.row_factory = sqlite3.Row
        try:
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken before reading so concurrent writers queue up."""
        with self._connection() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def customer(self, customer_id: str) -> dict[str, Any]:
        """The CRM's record of a customer (id, city, segment, language)."""
        if not self.crm_path.is_file():
            raise CrmUnavailable(f"CRM database not found: {self.crm_path}")
        try:
            uri = f"{self.crm_path.resolve().as_uri()}?mode=ro"
            with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as con:
                con.row_factory = sqlite3.Row
                row = con.execute(
                    "SELECT customer_id, city, segment, language FROM customers"
                    " WHERE customer_id = ?",
                    (customer_id,),
                ).fetchone()
        except sqlite3.OperationalError as exc:
            raise CrmUnavailable(f"CRM database not ready: {self.crm_path}: {exc}") from exc
        if row is None:
            raise UnknownCustomer(f"customer {customer_id!r} is not in the CRM")
        return dict(row)

    def _stored(
        self, table: str, where: str, key: tuple[Any, ...], rows: list[dict[str, Any]]
    ) -> list[sqlite3.Row]:
        """Rows of ``table`` ``where`` key, inserting the derived ``rows`` if none are there."""
        select = f"SELECT * FROM {table} WHERE {where}"
        with self._connection() as con:
            found = con.execute(select, key).fetchall()
        if found:
            return found
        fields = list(rows[0])
        columns, marks = ", ".join(fields), ", ".join(f":{f}" for f in fields)
        with self._write() as con:
            con.executemany(f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({marks})", rows)
            return con.execute(select, key).fetchall()

    def accounts(self, customer_id: str) -> list[dict[str, Any]]:
        """The customer's accounts, opened on first access for a customer of the CRM."""
        customer = self.customer(customer_id)
        rows = self._stored(
            "accounts", "customer_id = ?", (customer_id,), opening_accounts(customer)
        )
        order = {kind: n for n, kind in enumerate(ACCOUNT_TYPES)}
        return sorted((dict(r) for r in rows), key=lambda r: order[r["account_type"]])

    def account(self, customer_id: str, account_type: str) -> dict[str, Any]:
        """One account of the customer, by type (checking, savings, credit, deposit)."""
        if account_type not in ACCOUNT_TYPES:
            raise BadValue("account_type", f"expected one of {list(ACCOUNT_TYPES)}")
        return next(a for a in self.accounts(customer_id) if a["account_type"] == account_type)

    def rates(self, currency: str, day: date) -> dict[str, Any]:
        """The bank's buy and sell rates (rubles) of ``currency`` on ``day``, recorded once."""
        buy, sell = exchange_rate(currency, day)
        derived = {"date": day.isoformat(), "currency": currency}
        derived |= {"buy_kopecks": buy, "sell_kopecks": sell}
        key = (day.isoformat(), currency)
        (row,) = self._stored("rates", "date = ? AND currency = ?", key, [derived])
        return {
            "currency": currency,
            "date": day.isoformat(),
            "buy": row["buy_kopecks"] / 100,
            "sell": row["sell_kopecks"] / 100,
        }

    def branches(self, city: str) -> list[dict[str, Any]]:
        """The city's branches, main first: address and opening hours in ru and en."""
        rows = self._stored("branches", "city = ? ORDER BY branch_id", (city,), city_branches(city))
        return [
            {
                "branch_id": r["branch_id"],
                "city": r["city"],
                "address": {"ru": r["address_ru"], "en": r["address_en"]},
                "hours": {"ru": r["hours_ru"], "en": r["hours_en"]},
            }
            for r in rows
        ]

    def open_ticket(
        self, customer_id: str, subject: str, session_id: str
    ) -> tuple[dict[str, Any], bool]:
        """A complaint ticket; (ticket, created). The same session gets the same ticket back."""
        subject, session_id = subject.strip(), session_id.strip()
        if not subject or len(subject) > 500:
            raise BadValue("subject", "must be 1..500 characters of text")
        if not session_id or len(session_id) > 200:
            raise BadValue("session_id", "must be 1..200 characters")
        self.customer(customer_id)
        with self._write() as con:
            row = con.execute(
                "SELECT * FROM tickets WHERE customer_id = ? AND session_id = ?",
                (customer_id, session_id),
            ).fetchone()
            if row is not None:
                return dict(row), False
            for attempt in range(1000):
                number = 100_000 + int(unit("ticket", customer_id, session_id, attempt) * 900_000)
                ticket_id = f"CMP-{number}"
                if not con.execute(
                    "SELECT 1 FROM tickets WHERE ticket_id = ?", (ticket_id,)
                ).fetchone():
                    break
            else:
                raise BankError("no free complaint number left")
            ticket = {
                "ticket_id": ticket_id,
                "customer_id": customer_id,
                "session_id": session_id,
                "subject": subject,
                "created_at": now_text(),
            }
            con.execute(
                "INSERT INTO tickets VALUES (:ticket_id, :customer_id, :session_id, :subject,"
                " :created_at)",
                ticket,
            )
        return ticket, True

    def card_action(self, customer_id: str, last4: str, action: str) -> dict[str, Any]:
        """Block or activate a card; returns its new state and the one before."""
        if action not in CARD_STATES:
            raise BadValue("action", f"expected one of {sorted(CARD_STATES)}")
        check_last4(last4)
        self.customer(customer_id)
        with self._write() as con:
            row = con.execute(
                "SELECT state FROM cards WHERE customer_id = ? AND last4 = ?",
                (customer_id, last4),
            ).fetchone()
            con.execute(
                "INSERT OR REPLACE INTO cards VALUES (?, ?, ?, ?)",
                (customer_id, last4, CARD_STATES[action], now_text()),
            )
        return {
            "customer_id": customer_id,
            "last4": last4,
            "state": CARD_STATES[action],
            "previous_state": row["state"] if row else "active",
        }

    def request_pin_change(self, customer_id: str, last4: str) -> dict[str, Any]:
        """Record a PIN change request (the customer gets a link); returns its id."""
        check_last4(last4)
        self.customer(customer_id)
        created = now_text()
        with self._write() as con:
            seq = con.execute(
                "INSERT INTO pin_requests (customer_id, last4, created_at) VALUES (?, ?, ?)",
                (customer_id, last4, created),
            ).lastrowid
        return {
            "request_id": f"PIN-{seq:08d}",
            "customer_id": customer_id,
            "last4": last4,
            "created_at": created,
        }


def check_last4(last4: str) -> None:
    if not (len(last4) == 4 and last4.isdigit()):
        raise BadValue("last4", f"must be the card's last 4 digits, got {last4!r}")
