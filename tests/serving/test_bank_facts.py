"""The bot's facts from the bank (serving/facts.py over serving/bank_client.py and the service)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from core.errors import InputError
from core.language import LANGUAGES, phrasebook, placeholders
from ingestion.simulator.bank_service import start_in_thread
from serving.bank_client import BankClient, BankRefused, BankUnavailable
from serving.facts import INTENT_FACTS, facts_for
from tests.ingestion.test_bank_service import make_crm
from training.nlg.delex import FACT_NAMES, delexicalize, fact_patterns, slot_fields

TODAY = date(2026, 1, 5)
#: Canonical slots to ask each intent's facts with ({} also: the defaults).
SLOTS: dict[str, list[dict[str, Any]]] = {
    "check_balance": [{}, *({"account_type": kind} for kind in ("savings", "credit", "deposit"))],
    "exchange_rate": [{}, {"currency": "EUR"}, {"currency": "CNY"}],
    "loan_info": [{}, {"amount": 5000}, {"amount": 50_000.0}, {"amount": 2_000_000}],
    "branch_hours": [{}, {"city": "Moscow"}, {"city": "Vladivostok"}],
    "find_branch": [{}, {"city": "Saint Petersburg"}, {"city": "Rostov-on-Don"}],
    "complaint": [{}],
    "talk_to_operator": [{}],
}

#: What must stand around a fact for its pattern's look-arounds ("около <payment>").
CONTEXT = {
    "ru": {"payment": ("около ", ""), "wait": ("", " минуты"), "rate": ("", "%")},
    "en": {"payment": ("about ", ""), "wait": ("", " minutes"), "rate": ("", "%")},
}


@pytest.fixture
def bank(tmp_path: Path) -> Iterator[tuple[BankClient, list[dict[str, Any]]]]:
    customers = make_crm(tmp_path)
    server, base = start_in_thread(tmp_path)
    try:
        with BankClient(base) as client:
            yield client, customers
    finally:
        server.stop()


def fact_responses(intent: str, language: str) -> list[str]:
    """The intent's responses that use at least one fact."""
    responses = phrasebook(language)["intents"][intent]["responses"]
    return [r for r in responses if set(placeholders(r)) & set(FACT_NAMES)]


def test_intent_facts_cover_what_the_responses_use() -> None:
    for language in LANGUAGES:
        for intent in phrasebook(language)["intents"]:
            used = {p for r in fact_responses(intent, language) for p in placeholders(r)}
            assert used & set(FACT_NAMES) <= set(INTENT_FACTS.get(intent, ())), intent
    assert {f for facts in INTENT_FACTS.values() for f in facts} <= set(FACT_NAMES)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("intent", sorted(SLOTS))
def test_facts_read_back_through_the_nlg_patterns(bank, intent: str, language: str) -> None:
    client, customers = bank
    patterns, checked = dict(fact_patterns(language)), 0
    for customer in customers[:3]:
        for slots in SLOTS[intent]:
            facts = facts_for(
                intent, slots, language, customer["customer_id"], "sess-1", client, TODAY
            )
            assert set(facts) == set(INTENT_FACTS[intent])
            for name, value in facts.items():
                before, after = CONTEXT[language].get(name, ("", ""))
                assert patterns[name].search(f"{before}{value}{after}").group(0) == value
            for template in fact_responses(intent, language):
                fields = slot_fields(slots, language)
                used = [p for p in placeholders(template) if p in FACT_NAMES]
                if not set(placeholders(template)) <= set(fields) | set(facts):
                    continue  # the response needs a slot these slots lack
                text = template.format_map(fields | facts)
                found = delexicalize(text, language, slots).facts
                assert {name: found.get(name) for name in used} == {
                    name: facts[name] for name in used
                }, text
                checked += 1
    assert checked >= len(fact_responses(intent, language))


def test_facts_follow_the_bank(bank) -> None:
    client, customers = bank
    customer_id = customers[0]["customer_id"]

    def facts(intent: str, slots: dict[str, Any], language: str = "en", session: str = "s-1"):
        return facts_for(intent, slots, language, customer_id, session, client, TODAY)

    kopecks = client.account(customer_id, "savings")["balance_kopecks"]
    assert facts("check_balance", {"account_type": "savings"})["balance"] == (
        f"{kopecks // 100:,} rubles" if kopecks // 100 != 1 else "1 ruble"
    )
    rates = client.rates("EUR", TODAY)
    assert facts("exchange_rate", {"currency": "EUR"}, "ru") == {
        "buy": f"{rates['buy']:.2f}".replace(".", ","),
        "sell": f"{rates['sell']:.2f}".replace(".", ","),
    }
    assert facts("loan_info", {"amount": 300_000}) == {"rate": "19.9", "payment": "9,400 rubles"}
    home = client.branches(customers[0]["city"])[0]
    assert facts("find_branch", {}, "ru")["address"] == home["address"]["ru"]
    ticket = facts("complaint", {})["ticket"]
    assert facts("complaint", {}, "ru")["ticket"] == ticket  # once per session
    assert facts("complaint", {}, session="s-2")["ticket"] != ticket
    assert facts("talk_to_operator", {})["wait"].isdigit()
    assert facts("greeting", {}) == {}


def test_card_intents_perform_the_operation(bank) -> None:
    client, customers = bank
    customer_id = customers[0]["customer_id"]
    slots = {"card_last4": "4321"}
    assert facts_for("block_card", slots, "ru", customer_id, "s", client, TODAY) == {}
    assert client.activate_card(customer_id, "4321")["previous_state"] == "blocked"
    assert facts_for("activate_card", slots, "en", customer_id, "s", client, TODAY) == {}
    assert client.block_card(customer_id, "4321")["previous_state"] == "active"
    assert facts_for("change_pin", slots, "en", customer_id, "s", client, TODAY) == {}
    assert client.change_pin(customer_id, "4321")["request_id"] == "PIN-00000002"


def test_refusals_and_outages(bank, tmp_path_factory) -> None:
    client, customers = bank
    with pytest.raises(BankRefused) as refused:
        facts_for("check_balance", {}, "en", "CUST-999999", "s", client, TODAY)
    assert refused.value.status == 404 and "CUST-999999" in str(refused.value)
    with pytest.raises(BankRefused) as refused:
        facts_for("find_branch", {"city": "Atlantis"}, "ru", "CUST-001001", "s", client, TODAY)
    assert refused.value.parameter == "city"
    with pytest.raises(InputError):
        facts_for("check_balance", {}, "de", customers[0]["customer_id"], "s", client, TODAY)

    empty = tmp_path_factory.mktemp("no-crm")  # no CRM database: the service answers 503
    server, base = start_in_thread(empty)
    with BankClient(base) as no_crm, pytest.raises(BankUnavailable):
        facts_for("check_balance", {}, "en", "CUST-001001", "s", no_crm, TODAY)
    server.stop()
    with BankClient(base, timeout_s=0.5) as down, pytest.raises(BankUnavailable):
        facts_for("talk_to_operator", {}, "en", "CUST-001001", "s", down, TODAY)
