# ruff: noqa: RUF001 (Russian text uses Cyrillic letters on purpose)
"""The CRM's own SQLite database, day by day: new customers, tickets, and edits of old rows.

Day N inserts its new customers and the tickets of its calls (``created_at`` on day N) and
updates some older rows (status changes, edited notes, a changed phone...) with
``updated_at`` on day N, so an incremental sync on ``updated_at`` has work to do.
Deterministic: the rows day N writes depend only on the seed, N and rows created before
day N. Re-running day N gives the same rows: its own rows are replaced, and an older row
already updated on day N (or later) is left alone.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from core import pii, pii_planting
from ingestion.simulator.layout import CRM_SCHEMA, CUSTOMER_FIELDS, TICKET_FIELDS, day_date

SEGMENTS = ("mass", "premium", "private", "business")
SEGMENT_WEIGHTS = (70, 20, 5, 5)
STATUSES = ("open", "in_progress", "resolved", "closed")
MAX_NEW_CUSTOMERS_PER_DAY = 999  # customer ids are CUST-<day:03d><n:03d>


def day_start(day: int) -> datetime:
    return datetime.combine(day_date(day), time(0), tzinfo=UTC)


def timestamp(day: int, seconds: float) -> str:
    """ISO 8601 UTC text of ``seconds`` after midnight of ``day`` (sorts as text)."""
    return (day_start(day) + timedelta(seconds=int(seconds))).isoformat()


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the CRM database with its schema."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    conn.executescript(CRM_SCHEMA)
    return conn


# --------------------------------------------------------------------------- customers


@dataclass(frozen=True)
class Customer:
    """A CRM customer row and who they are (for planting their data in calls)."""

    row: dict[str, Any]

    @property
    def id(self) -> str:
        return self.row["customer_id"]

    @property
    def language(self) -> str:
        return self.row["language"]

    @property
    def identity(self) -> pii_planting.Identity:
        person = pii.person_from_full_name(self.row["full_name"], self.language)
        row = self.row
        # SNILS, INN and address are drawn from the id: the CRM's schema does not hold them
        numbers = pii_planting.russian_numbers(
            row["customer_id"], self.language, row.get("city") or ""
        )
        return pii_planting.Identity(person, row["phone"], row["email"], row["passport"], *numbers)


def new_customer_count(day: int, calls: int) -> int:
    """How many customers day ``day`` adds: a base population on day 1, a trickle after."""
    wanted = max(20, calls // 3) if day == 1 else max(3, calls // 25)
    return min(MAX_NEW_CUSTOMERS_PER_DAY, wanted)


def _new_customer(rng: random.Random, day: int, n: int) -> dict[str, Any]:
    language = ("ru", "en")[n % 2] if n <= 2 else rng.choice(("ru", "en"))
    person = pii.random_person(rng, language)
    passport = pii.passport_ru(rng) if language == "ru" else pii.passport_foreign(rng)
    created = timestamp(day, rng.randint(8 * 3600, 21 * 3600))
    city = rng.choice(sorted(pii.lexicon()["cities"]))
    return {
        "customer_id": f"CUST-{day:03d}{n:03d}",
        "full_name": person.full_name,
        "phone": pii.phone(rng, language),
        "email": pii.email(rng, person),
        "passport": passport,
        "language": language,
        "segment": rng.choices(SEGMENTS, SEGMENT_WEIGHTS)[0],
        "city": city,
        "created_at": created,
        "updated_at": created,
    }


def _rows(conn: sqlite3.Connection, sql: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(sql, args)]


def _insert(
    conn: sqlite3.Connection, table: str, fields: tuple[str, ...], rows: list[dict]
) -> None:
    marks = ", ".join("?" for _ in fields)
    sql = f"INSERT OR REPLACE INTO {table} ({', '.join(fields)}) VALUES ({marks})"
    conn.executemany(sql, [tuple(r[f] for f in fields) for r in rows])


def _day_range(day: int) -> tuple[str, str]:
    return day_start(day).isoformat(), day_start(day + 1).isoformat()


def add_customers(conn: sqlite3.Connection, day: int, count: int, seed: int) -> list[Customer]:
    """Insert day ``day``'s new customers; return every customer created up to that day."""
    start, end = _day_range(day)
    rng = random.Random(f"{seed}:{day}:customers")
    new = [_new_customer(rng, day, n) for n in range(1, count + 1)]
    conn.execute("DELETE FROM customers WHERE created_at >= ? AND created_at < ?", (start, end))
    _insert(conn, "customers", CUSTOMER_FIELDS, new)
    older = _rows(
        conn, "SELECT * FROM customers WHERE created_at < ? ORDER BY customer_id", (start,)
    )
    return [Customer(r) for r in older + new]


# --------------------------------------------------------------------------- tickets

SUBJECTS = {
    "ru": {
        "greeting": "Обращение без темы",
        "goodbye": "Обращение без темы",
        "help": "Консультация по услугам",
        "check_balance": "Баланс счёта",
        "block_card": "Блокировка карты",
        "activate_card": "Активация карты",
        "change_pin": "Смена ПИН-кода",
        "transfer_money": "Перевод средств",
        "payment_status": "Статус платежа",
        "exchange_rate": "Курсы валют",
        "account_statement": "Выписка по счёту",
        "loan_info": "Консультация по кредиту",
        "report_fraud": "Мошенническая операция",
        "branch_hours": "Режим работы отделения",
        "find_branch": "Поиск отделения",
        "complaint": "Жалоба",
        "talk_to_operator": "Перевод на оператора",
        "out_of_scope": "Прочее",
    },
    "en": {
        "greeting": "Call without a topic",
        "goodbye": "Call without a topic",
        "help": "Service consultation",
        "check_balance": "Account balance",
        "block_card": "Card blocking",
        "activate_card": "Card activation",
        "change_pin": "PIN change",
        "transfer_money": "Money transfer",
        "payment_status": "Payment status",
        "exchange_rate": "Exchange rates",
        "account_statement": "Account statement",
        "loan_info": "Loan consultation",
        "report_fraud": "Fraudulent transaction",
        "branch_hours": "Branch opening hours",
        "find_branch": "Branch search",
        "complaint": "Complaint",
        "talk_to_operator": "Transfer to an agent",
        "out_of_scope": "Other",
    },
}

ACTIONS = {
    "ru": {
        "block_card": "Карта заблокирована, заказан перевыпуск.",
        "activate_card": "Карта активирована.",
        "change_pin": "Отправлена ссылка на смену ПИН-кода.",
        "transfer_money": "Проконсультировали по переводу, перевод подтверждён.",
        "payment_status": "Платёж найден, запрос передан в операционный отдел.",
        "report_fraud": "Операция оспорена, карта заблокирована, передано в службу безопасности.",
        "complaint": "Жалоба зарегистрирована и передана руководителю отделения.",
        "talk_to_operator": "Клиент переведён на оператора.",
        "": "Проведена консультация.",
    },
    "en": {
        "block_card": "Card blocked, replacement ordered.",
        "activate_card": "Card activated.",
        "change_pin": "Sent a PIN change link.",
        "transfer_money": "Advised on the transfer, transfer confirmed.",
        "payment_status": "Payment found, request passed to operations.",
        "report_fraud": "Transaction disputed, card blocked, passed to the security team.",
        "complaint": "Complaint registered and passed to the branch manager.",
        "talk_to_operator": "Customer transferred to an agent.",
        "": "Consultation given.",
    },
}

NOTES = {
    "ru": (
        "Клиент {full} {turned}: {subject}. {action} Контактный телефон {phone}.",
        "{called} {short}, личность подтверждена по паспорту {passport}. {action}",
        "Клиент просит перезвонить на {phone}. {action}",
        "{action} Ответ направлен на {email}.",
        "{action}",
    ),
    "en": (
        "Customer {full} called: {subject}. {action} Contact phone {phone}.",
        "Call from {short}, identity checked against passport {passport}. {action}",
        "Customer asks for a call back on {phone}. {action}",
        "{action} Reply sent to {email}.",
        "{action}",
    ),
}
CARD_NOTES = {
    "ru": "Карта клиента {short}: {card}. {action}",
    "en": "Card of {short}: {card}. {action}",
}
FOLLOW_UPS = {
    "ru": (
        "Перезвонили клиенту, вопрос решён.",
        "Клиент перезвонил с номера {phone}, уточнил детали.",
        "Отправили письмо на {email}.",
        "Передано на второй уровень поддержки.",
        "Повторно сверили паспорт {passport}.",
    ),
    "en": (
        "Called the customer back, resolved.",
        "Customer called again from {phone} with details.",
        "Sent an email to {email}.",
        "Escalated to second-line support.",
        "Passport {passport} checked again.",
    ),
}

#: Chance that a call of this intent leaves a ticket (others: DEFAULT_TICKET_RATE).
TICKET_RATES = {
    "block_card": 0.8,
    "report_fraud": 0.9,
    "complaint": 0.9,
    "talk_to_operator": 0.7,
    "payment_status": 0.6,
    "activate_card": 0.4,
    "change_pin": 0.4,
    "account_statement": 0.4,
    "transfer_money": 0.3,
    "loan_info": 0.3,
}
DEFAULT_TICKET_RATE = 0.08


def _facts(rng: random.Random, customer: Customer) -> dict[str, str]:
    who = customer.identity
    female = who.person.female
    return {
        "turned": "обратилась" if female else "обратился",
        "called": "Звонила" if female else "Звонил",
        "full": who.person.full_name,
        "short": who.person.short_name,
        "phone": who.phone,
        "email": who.email,
        "passport": who.passport,
        "card": pii.card_number(rng),
    }


def ticket_note(rng: random.Random, intent: str, customer: Customer) -> str:
    """Free text an agent wrote about the call: often with the customer's personal data."""
    language = customer.language
    fields = _facts(rng, customer) | {
        "subject": SUBJECTS[language][intent].lower(),
        "action": ACTIONS[language].get(intent, ACTIONS[language][""]),
    }
    if intent in {"block_card", "report_fraud"} and rng.random() < 0.4:
        return CARD_NOTES[language].format_map(fields)
    return rng.choices(NOTES[language], (3, 2, 2, 1, 2))[0].format_map(fields)


@dataclass(frozen=True)
class CallRef:
    """What a ticket needs to know about a call."""

    call_id: str
    customer: Customer
    intent: str
    ended_s: float  # seconds after midnight of the call's day


def add_tickets(conn: sqlite3.Connection, day: int, calls: list[CallRef], seed: int) -> list[dict]:
    """Insert the tickets agents opened for day ``day``'s calls; return the rows."""
    rng = random.Random(f"{seed}:{day}:tickets")
    start, end = _day_range(day)
    rows = []
    for call in calls:
        if rng.random() >= TICKET_RATES.get(call.intent, DEFAULT_TICKET_RATE):
            continue
        created = timestamp(day, min(call.ended_s + rng.randint(30, 900), 86_399))
        rows.append(
            {
                "ticket_id": f"T{day_date(day):%Y%m%d}-{len(rows) + 1:06d}",
                "customer_id": call.customer.id,
                "call_id": call.call_id,
                "status": rng.choices(STATUSES[:3], (6, 2, 2))[0],
                "subject": SUBJECTS[call.customer.language][call.intent],
                "note": ticket_note(rng, call.intent, call.customer),
                "created_at": created,
                "updated_at": created,
            }
        )
    conn.execute("DELETE FROM tickets WHERE created_at >= ? AND created_at < ?", (start, end))
    _insert(conn, "tickets", TICKET_FIELDS, rows)
    return rows


# --------------------------------------------------------------------------- updates


def _next_status(u: float, status: str) -> str:
    """The status after an edit, from a uniform draw ``u`` (one draw whatever the status)."""
    if status == "open":
        return "in_progress" if u < 0.6 else "resolved"
    if status == "in_progress":
        return "resolved"
    if status == "resolved":
        return "closed" if u < 0.8 else "open"
    return status


def _applies(updated_at: str, day: int) -> bool:
    """An older row takes day ``day``'s edit unless it was edited on day ``day`` or later."""
    return updated_at < day_start(day).isoformat()


def _edited_today(updated_at: str, day: int) -> bool:
    start, end = _day_range(day)
    return start <= updated_at < end


@dataclass
class Updates:
    """Rows day ``day`` edited: customer ids and ticket rows (after the edit)."""

    customers: list[str]
    tickets: list[dict[str, Any]]


def update_older_rows(conn: sqlite3.Connection, day: int, seed: int) -> Updates:
    """Edit some rows created before ``day``: ticket statuses and notes, customer contacts."""
    rng = random.Random(f"{seed}:{day}:updates")
    start = day_start(day).isoformat()
    week_ago = day_start(day - 7).isoformat() if day > 7 else ""
    tickets = _rows(
        conn,
        "SELECT * FROM tickets WHERE created_at < ? AND created_at >= ? ORDER BY ticket_id",
        (start, week_ago),
    )
    customers = {
        c["customer_id"]: Customer(c)
        for c in _rows(
            conn, "SELECT * FROM customers WHERE created_at < ? ORDER BY customer_id", (start,)
        )
    }
    edited = Updates([], [])
    for row in rng.sample(tickets, k=round(0.3 * len(tickets))):
        when = timestamp(day, rng.randint(8 * 3600, 21 * 3600))
        status = _next_status(rng.random(), row["status"])
        customer = customers.get(row["customer_id"])
        note = row["note"]
        if customer is not None and rng.random() < 0.6:
            follow = rng.choice(FOLLOW_UPS[customer.language]).format_map(_facts(rng, customer))
            note = f"{note} [{day_date(day).isoformat()}] {follow}"
        if _applies(row["updated_at"], day) and row["status"] != "closed":
            row |= {"status": status, "note": note, "updated_at": when}
            conn.execute(
                "UPDATE tickets SET status = ?, note = ?, updated_at = ? WHERE ticket_id = ?",
                (status, note, when, row["ticket_id"]),
            )
            edited.tickets.append(row)
        elif _edited_today(row["updated_at"], day):
            edited.tickets.append(row)
    pool = list(customers.values())
    for customer in rng.sample(pool, k=min(len(pool), max(1, round(0.03 * len(pool))))):
        row = dict(customer.row)
        when = timestamp(day, rng.randint(8 * 3600, 21 * 3600))
        change = rng.choice(("phone", "email", "segment", "city"))
        if change == "phone":
            value: str = pii.phone(rng, customer.language)
        elif change == "email":
            value = pii.email(rng, customer.identity.person)
        elif change == "segment":
            value = rng.choices(SEGMENTS, SEGMENT_WEIGHTS)[0]
        else:
            value = rng.choice(sorted(pii.lexicon()["cities"]))
        if _applies(row["updated_at"], day):
            conn.execute(
                f"UPDATE customers SET {change} = ?, updated_at = ? WHERE customer_id = ?",
                (value, when, customer.id),
            )
            edited.customers.append(customer.id)
        elif _edited_today(row["updated_at"], day):
            edited.customers.append(customer.id)
    return edited


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of both tables, in key order (for comparing databases)."""
    with sqlite3.connect(path) as conn:
        return {
            "customers": conn.execute("SELECT * FROM customers ORDER BY customer_id").fetchall(),
            "tickets": conn.execute("SELECT * FROM tickets ORDER BY ticket_id").fetchall(),
        }
