"""A customer who shares only a first name and patronymic with the subject ("Борис
Петрович") is somebody else: not found by the subject's search, not touched by their erasure.
(On the demo's home that form matched another customer's CRM row and tickets.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.erasure import erase
from ingestion.simulator import crm
from ingestion.simulator import layout as lay
from tests.conftest import SERVER_VARIABLES
from tests.governance.test_erasure import _world
from tests.governance.test_subject_search import BORIS, _customer

NAMESAKE = {
    "customer_id": "CUST-001009", "full_name": "Сидоров Борис Петрович", "language": "ru",
    "phone": "+7 (900) 111-22-33", "email": "sidorov@example.ru", "passport": "4000 111222",
}  # fmt: skip


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name in SERVER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path / "home"))
    settings = _world(tmp_path / "home")
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
