"""The dialogue policy over the simulated bank: answers with its facts, asks again, hands off."""

from __future__ import annotations

from datetime import date

import pytest

from serving.bank_client import BankClient
from serving.dialogue import DialoguePolicy, SessionMemory
from serving.facts import facts_for

TODAY = date(2026, 1, 15)


def _policy(url: str, **options) -> DialoguePolicy:
    bank = BankClient(url, timeout_s=1.0)

    def facts(intent, slots, language, customer, session, today):
        return facts_for(intent, slots, language, customer, session, bank, today)

    return DialoguePolicy(facts, **options)


def _decide(policy: DialoguePolicy, customer: str, session: str = "s", **turn):
    fields = {
        "transcript": "words",
        "intent": "greeting",
        "confidence": 0.9,
        "slots": {},
        "language": "en",
    } | turn
    return policy.decide(customer=customer, session=session, today=TODAY, **fields)


def test_a_balance_question_is_answered_with_the_banks_figure(bank_url, customer) -> None:
    act = _decide(
        _policy(bank_url),
        customer,
        intent="check_balance",
        slots={"account_type": "savings"},
        language="ru",
    )
    balance = BankClient(bank_url).account(customer, "savings")["balance_kopecks"] // 100
    assert act.kind == "respond" and not act.handoff and act.text is None
    digits = "".join(ch for ch in act.facts["balance"] if ch.isdigit())
    assert digits == str(balance)
    request = act.nlg_request("ru")
    assert request == {
        "language": "ru",
        "intent": "check_balance",
        "slots": {"account_type": "savings"},
        "facts": act.facts,
    }


def test_nothing_heard_twice_hands_off(bank_url, customer) -> None:
    policy = _policy(bank_url)
    first = _decide(policy, customer, transcript="  ", confidence=0.0)
    assert first.kind == "reprompt" and "again" in first.text
    second = _decide(policy, customer, transcript="", confidence=0.0)
    assert second.handoff and second.intent == "talk_to_operator"
    assert second.facts["wait"].isdigit() and "again" in second.reason


def test_an_unclear_intent_asks_to_rephrase_and_an_understood_turn_resets(bank_url, customer):
    policy = _policy(bank_url, min_confidence=0.5)
    assert _decide(policy, customer, confidence=0.3).kind == "clarify"
    assert _decide(policy, customer, confidence=0.9).kind == "respond"
    assert _decide(policy, customer, confidence=0.3).kind == "clarify"  # count restarted
    assert _decide(policy, customer, confidence=0.2).handoff


def test_asking_for_an_operator_hands_off_with_the_queue_wait(bank_url, customer) -> None:
    act = _decide(_policy(bank_url), customer, intent="talk_to_operator")
    assert act.handoff and act.text is None and int(act.facts["wait"]) >= 1


@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_bank_that_does_not_answer_means_an_apology_and_a_handoff(language) -> None:
    policy = _policy("http://127.0.0.1:9")  # nothing listens on the discard port
    act = _decide(policy, "CUST-000001", intent="check_balance", language=language)
    assert act.handoff and act.text and "back end" in act.reason
    assert act.nlg_request(language) is None


def test_an_unknown_customer_is_handed_off_not_answered(bank_url) -> None:
    act = _decide(_policy(bank_url), "CUST-999999", intent="check_balance")
    assert act.handoff and "back end" in act.reason


def test_out_of_scope_is_a_real_response(bank_url, customer) -> None:
    act = _decide(_policy(bank_url), customer, intent="out_of_scope")
    assert act.kind == "respond" and act.nlg_request("en")["intent"] == "out_of_scope"


def test_session_memory_is_bounded() -> None:
    memory = SessionMemory(capacity=3)
    for i in range(10):
        memory.missed(f"s{i}")
        memory.next_turn(f"s{i}")
    assert len(memory._misses) == 3 and len(memory._turns) == 3
    assert memory.next_turn("s9") == 2
