"""A customer who shares only a first name and patronymic with the subject ("Борис
Петрович") is somebody else: not found by the subject's search, not touched by their erasure.
(On the demo's home that form matched another customer's CRM row and tickets.)"""

from __future__ import annotations

import pytest

from governance.erasure import erase
from ingestion.simulator import crm
from ingestion.simulator import layout as lay
from tests.governance.test_subject_search import BORIS, _customer

NAMESAKE = {
    "customer_id": "CUST-001009", "full_name": "Сидоров Борис Петрович", "language": "ru",
    "phone": "+7 (900) 111-22-33", "email": "sidorov@example.ru", "passport": "4000 111222",
}  # fmt: skip


@pytest.fixture
def settings(world):
    settings = world
    with crm.connect(lay.crm_database(settings.sources_root)) as conn:
        row = _customer(NAMESAKE)
        conn.execute(f"INSERT INTO customers ({', '.join(row)}) VALUES "
                     f"({', '.join('?' for _ in row)})", list(row.values()))  # fmt: skip
        conn.execute("INSERT INTO tickets VALUES ('T9', ?, 'C9', 'open', 'card', "
                     "'Клиент Сидоров Борис Петрович обратился', 'x', 'x')",
                     (NAMESAKE["customer_id"],))  # fmt: skip
    conn.close()
    return settings


def _namesake_rows(settings) -> int:
    with crm.connect(lay.crm_database(settings.sources_root)) as conn:
        rows = conn.execute(
            "SELECT (SELECT count(*) FROM customers WHERE customer_id = ?) + "
            "(SELECT count(*) FROM tickets WHERE customer_id = ?)",
            (NAMESAKE["customer_id"], NAMESAKE["customer_id"]),
        ).fetchone()[0]
    conn.close()
    return int(rows)


def test_a_namesake_is_neither_found_nor_erased(settings) -> None:
    assert _namesake_rows(settings) == 2

    report = erase(settings, BORIS["customer_id"])

    assert report.ok and report.proof.total() == 0, report.proof.findings
    assert _namesake_rows(settings) == 2


TWIN = NAMESAKE | {"customer_id": "CUST-001010", "full_name": BORIS["full_name"],
                   "email": "twin@example.ru", "passport": "4000 333444"}  # fmt: skip


def test_a_customer_with_the_same_full_name_keeps_their_rows(settings) -> None:
    """Two customers named "Иванов Борис Петрович": the twin's own rows (CRM, tickets, a
    call in the warehouse) name the twin, not the subject, and survive the erasure."""
    from core.pseudonym import customer_key, pseudonym_key
    from warehouse.connection import connect

    with crm.connect(lay.crm_database(settings.sources_root)) as conn:
        row = _customer(TWIN)
        conn.execute(f"INSERT INTO customers ({', '.join(row)}) VALUES "
                     f"({', '.join('?' for _ in row)})", list(row.values()))  # fmt: skip
        conn.execute("INSERT INTO tickets VALUES ('T10', ?, 'C10', 'open', 'card', ?, 'x', 'x')",
                     (TWIN["customer_id"], f"Клиент {TWIN['full_name']} обратился"))  # fmt: skip
    conn.close()
    key = customer_key(TWIN["customer_id"], pseudonym_key(settings))
    with connect(settings) as db:
        db.execute("INSERT INTO audit_ingest_2_raw.call_exports_calls VALUES (?, ?, ?, ?)",
                   ("C10", TWIN["customer_id"], key, f"это {TWIN['full_name']}"))  # fmt: skip

    report = erase(settings, BORIS["customer_id"])

    assert report.ok and report.proof.total() == 0, report.proof.findings
    with crm.connect(lay.crm_database(settings.sources_root)) as conn:
        kept = conn.execute("SELECT count(*) FROM tickets WHERE customer_id = ?",
                            (TWIN["customer_id"],)).fetchone()[0]  # fmt: skip
        customers = conn.execute("SELECT count(*) FROM customers WHERE customer_id = ?",
                                 (TWIN["customer_id"],)).fetchone()[0]  # fmt: skip
    conn.close()
    assert (kept, customers) == (1, 1)
    with connect(settings) as db:
        calls = db.fetchone("SELECT count(*) FROM audit_ingest_2_raw.call_exports_calls "
                            "WHERE customer_id = ?", [TWIN["customer_id"]])  # fmt: skip
    assert calls == (1,)
