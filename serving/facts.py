"""The bot's facts from the bank: the values NLG's fact placeholders stand for.

NLG writes ``<balance>``, ``<buy>``, ``<ticket>``... (``training.nlg.delex.FACT_NAMES``);
:func:`facts_for` asks the bank for the intent's facts and formats them as the bot says them
(``core.language``: money in words of the language, decimals with a comma in Russian), so
they match ``training.nlg.delex.fact_patterns``. Operations (block a card, open a complaint)
happen here too: a complaint is opened once per session however often the turn is retried.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from core.errors import InputError
from core.language import LANGUAGES, _decimal, money_text
from serving.bank_client import BankClient

#: Intent -> the facts its responses may use.
INTENT_FACTS: dict[str, tuple[str, ...]] = {
    "check_balance": ("balance",),
    "exchange_rate": ("buy", "sell"),
    "loan_info": ("rate", "payment"),
    "branch_hours": ("hours", "address"),
    "find_branch": ("hours", "address"),
    "complaint": ("ticket",),
    "talk_to_operator": ("wait",),
}
DEFAULT_ACCOUNT = "checking"
DEFAULT_CURRENCY = "USD"
DEFAULT_LOAN = 300_000
COMPLAINT_SUBJECTS = {"ru": "Жалоба (голосовой бот)", "en": "Complaint (voice bot)"}


def rate_text(rate: float, language: str) -> str:
    """An annual rate as the bot says it: "19.9", "19,9", "20"."""
    return _decimal(rate, language).rstrip("0").rstrip(",.")


def _amount(slots: dict[str, Any]) -> int:
    value = slots.get("amount")
    if value is None or isinstance(value, bool):
        return DEFAULT_LOAN
    try:
        return round(float(value))
    except (TypeError, ValueError) as exc:
        raise InputError(f"slots: amount must be a number, got {value!r}") from exc


def facts_for(
    intent: str,
    slots: dict[str, Any],
    language: str,
    customer_id: str,
    session_id: str,
    bank: BankClient,
    today: date,
) -> dict[str, str]:
    """The fact placeholders ``intent``'s responses use, filled from the bank.

    Card intents perform the operation on the slot's card (no facts); an intent without facts
    returns ``{}``. Raises ``BankRefused`` / ``BankUnavailable`` from the client.
    """
    if language not in LANGUAGES:
        raise InputError(f"language: expected one of {LANGUAGES}, got {language!r}")
    last4 = slots.get("card_last4")
    if intent == "check_balance":
        account = bank.account(customer_id, slots.get("account_type") or DEFAULT_ACCOUNT)
        return {"balance": money_text(account["balance_kopecks"] // 100, "RUB", language)}
    if intent == "exchange_rate":
        rates = bank.rates(slots.get("currency") or DEFAULT_CURRENCY, today)
        return {"buy": _decimal(rates["buy"], language), "sell": _decimal(rates["sell"], language)}
    if intent == "loan_info":
        offer = bank.loan_offer(_amount(slots))
        return {
            "rate": rate_text(offer["annual_rate"], language),
            "payment": money_text(offer["monthly_payment"], "RUB", language),
        }
    if intent in {"branch_hours", "find_branch"}:
        city = slots.get("city") or bank.customer(customer_id)["city"]
        branch = bank.branches(city)[0]  # the main branch
        return {"hours": branch["hours"][language], "address": branch["address"][language]}
    if intent == "complaint":
        ticket = bank.open_ticket(customer_id, COMPLAINT_SUBJECTS[language], session_id)
        return {"ticket": ticket["ticket_id"]}
    if intent == "talk_to_operator":
        return {"wait": str(bank.operator_wait())}
    if intent in {"block_card", "activate_card", "change_pin"} and last4:
        operation = {
            "block_card": bank.block_card,
            "activate_card": bank.activate_card,
            "change_pin": bank.change_pin,
        }[intent]
        operation(customer_id, str(last4))
    return {}
