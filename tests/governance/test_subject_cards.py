"""A card number the subject said in one of their calls is one of their identifiers: found
wherever it turns up (logs, quarantine), and a card someone else said is not theirs."""

from __future__ import annotations

import json

import pytest

from core.settings import Settings
from governance.subject import Subject
from governance.subject_search import search
from ingestion.simulator import crm
from ingestion.simulator import layout as lay
from tests.conftest import SERVER_VARIABLES
from tests.governance.test_subject_search import ALICE, BORIS, _call, _customer
from warehouse.connection import connect

ALICE_CARD = "4111 1111 1111 1111"  # Luhn-valid
BORIS_CARD = "5500 0000 0000 0004"


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    for name in SERVER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    settings = Settings(home=tmp_path / "home", lake_fsync=False)
    root = settings.sources_root
    with crm.connect(lay.crm_database(root)) as conn:
        for person in (ALICE, BORIS):
            row = _customer(person)
            conn.execute(f"INSERT INTO customers ({', '.join(row)}) VALUES "
                         f"({', '.join('?' for _ in row)})", list(row.values()))  # fmt: skip
    conn.close()
    calls = [
        _call("C1", ALICE, f"please block my card {ALICE_CARD}"),
        _call("C2", BORIS, f"card {BORIS_CARD} was stolen"),
    ]
    exports = lay.calls_jsonl(root, 1)
    exports.parent.mkdir(parents=True)
    exports.write_text("".join(json.dumps(call) + "\n" for call in calls))
    log = settings.home / "airbyte" / "logs" / "sync-1.log"
    log.parent.mkdir(parents=True)
    log.write_text("declined 4111-1111-1111-1111\ndeclined 5500000000000004\n")
    with connect(settings) as db:
        db.create_schema("audit_x_raw")
        db.execute("CREATE TABLE audit_x_raw.quarantine (reason TEXT, record TEXT)")
        db.execute("INSERT INTO audit_x_raw.quarantine VALUES ('bad', 'card 4111111111111111')")
    return settings


def test_cards_said_in_the_subject_s_calls_are_searched_everywhere(settings) -> None:
    report = search(settings, ALICE["customer_id"])
    cards = {(f.layer, f.where, f.count) for f in report.findings if f.kind == "card_number"}
    assert "card_number" in report.kinds
    assert ("connector_logs", "sync-1.log", 1) in cards  # the other card's line is not hers
    assert ("warehouse", "audit_x_raw.quarantine.record", 1) in cards
    assert ("sources", "call_exports/dt=2026-01-01/calls.jsonl", 1) in cards


def test_a_card_only_counts_when_the_subject_said_it() -> None:
    subject = Subject("CUST-9", {"customer_id": "CUST-9", "customer_key": "ck_x"})
    subject.add_calls_from_lines([json.dumps({"call_id": "C9", "customer_id": "CUST-8",
                                              "transcript": f"card {ALICE_CARD}"})])  # fmt: skip
    assert subject.cards == set() and "card_number" not in subject.kinds()
    subject.add_calls_from_lines([json.dumps({"call_id": "C8", "customer_id": "CUST-9",
                                              "transcript": f"card {ALICE_CARD}"})])  # fmt: skip
    assert subject.cards == {"4111111111111111"} and subject.call_ids == {"C8"}
    assert subject.text_hits(["pay with 4111-1111-1111-1111", "nothing"])["card_number"] == 1
