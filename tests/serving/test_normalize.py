# ruff: noqa: RUF001 (Russian words use Cyrillic letters on purpose)
"""The slot normalizer: hand-picked spoken values, and a round trip through the simulator."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

import pytest

from core import language as simulator
from core.pii import lexicon
from core.taxonomy import load_taxonomy
from serving.normalize import normalize_slots

TODAY = date(2026, 1, 15)  # a Thursday


def canonical(slot: str, text: str, language: str) -> object:
    result = normalize_slots({slot: text}, language, TODAY)
    assert slot not in result.unresolved, result.unresolved
    return result.canonical[slot]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("кредитной карте", "ru", "credit"),
        ("с текущего счёта", "ru", "checking"),
        ("Накопительном счете", "ru", "savings"),
        ("со вклада", "ru", "deposit"),
        ("my savings account", "en", "savings"),
        ("Credit Card Account", "en", "credit"),
        ("term deposit", "en", "deposit"),
        ("накопительного", "ru", "savings"),  # said without its noun (lexicon's also_said)
    ],
)
def test_account_type(text: str, language: str, expected: str) -> None:
    assert canonical("account_type", text, language) == expected


def test_every_account_form_of_the_lexicon_resolves() -> None:
    for language, kinds in lexicon()["accounts"].items():
        for kind, variants in kinds.items():
            for variant in variants:
                for form in variant.values() if language == "ru" else [variant]:
                    assert canonical("account_type", form, language) == kind, form


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("долларов", "USD"),
        ("доллара", "USD"),
        ("евро", "EUR"),
        ("юаней", "CNY"),
        ("рублей", "RUB"),
        ("$", "USD"),
        ("USD", "USD"),
        ("eur", "EUR"),
        ("yuan", "CNY"),
        ("Rubles", "RUB"),
        ("bucks", "USD"),  # slang and other spellings: the lexicon's also_said
        ("бакса", "USD"),
        ("roubles", "RUB"),
        ("evro", "EUR"),
    ],
)
def test_currency(text: str, expected: str) -> None:
    assert canonical("currency", text, "ru") == expected


@pytest.mark.parametrize(
    ("text", "language", "amount", "currency"),
    [
        ("пять тысяч", "ru", 5000, None),
        ("двести пятьдесят", "ru", 250, None),
        ("тысяча двести", "ru", 1200, None),
        ("две тысячи пятьсот рублей", "ru", 2500, "RUB"),
        ("50 тысяч долларов", "ru", 50_000, "USD"),
        ("1 500", "ru", 1500, None),
        ("5 000 юаней", "ru", 5000, "CNY"),
        ("1500,50", "ru", 1500.5, None),
        ("two hundred fifty", "en", 250, None),
        ("five thousand", "en", 5000, None),
        ("1,500", "en", 1500, None),
        ("$1,200", "en", 1200, "USD"),
        ("3 thousand euros", "en", 3000, "EUR"),
        ("one hundred and five dollars", "en", 105, "USD"),
    ],
)
def test_amount_and_its_currency(
    text: str, language: str, amount: float, currency: str | None
) -> None:
    result = normalize_slots({"amount": text}, language, TODAY)
    assert result.canonical.get("amount") == amount
    assert type(result.canonical["amount"]) is type(amount)
    assert result.canonical.get("currency") == currency


def test_an_explicit_currency_slot_wins_over_the_amount_words() -> None:
    result = normalize_slots({"amount": "$300", "currency": "евро"}, "ru", TODAY)
    assert result.canonical == {"amount": 300, "currency": "EUR"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234", "1234"),
        ("12 34", "1234"),
        ("один два три четыре", "1234"),
        ("oh five one nine", "0519"),
    ],
)
def test_card_last4(text: str, expected: str) -> None:
    assert canonical("card_last4", text, "en") == expected


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Москве", "ru", "Moscow"),
        ("во Владивостоке", "ru", "Vladivostok"),
        ("из Москвы", "ru", "Moscow"),
        ("Ростове-на-Дону", "ru", "Rostov-on-Don"),
        ("St. Petersburg", "en", "Saint Petersburg"),
        ("in kazan", "en", "Kazan"),
    ],
)
def test_city(text: str, language: str, expected: str) -> None:
    assert canonical("city", text, language) == expected


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("  ивану   петрову ", "ru", "Иван Петров"),
        ("Анне Петровой", "ru", "Анна Петрова"),
        ("Ивана Петрова", "ru", "Иван Петров"),
        ("Ольге Покровской", "ru", "Ольга Покровская"),
        ("john  SMITH", "en", "John Smith"),
    ],
)
def test_recipient(text: str, language: str, expected: str) -> None:
    assert canonical("recipient", text, language) == expected


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("вчера", "ru", "2026-01-14"),
        ("в понедельник", "ru", "2026-01-12"),
        ("в прошлую среду", "ru", "2026-01-07"),
        ("28 декабря", "ru", "2025-12-28"),
        ("five days ago", "en", "2026-01-10"),
        ("on the 3rd of January", "en", "2026-01-03"),
    ],
)
def test_date(text: str, language: str, expected: str) -> None:
    assert canonical("date", text, language) == expected


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("за прошлый месяц", "ru", "2025-12-01/2025-12-31"),
        ("за ноябрь", "ru", "2025-11-01/2025-11-30"),
        ("с 3 по 20 декабря", "ru", "2025-12-03/2025-12-20"),
        ("for the past week", "en", "2026-01-09/2026-01-15"),
        ("for 2025", "en", "2025-01-01/2025-12-31"),
    ],
)
def test_period(text: str, language: str, expected: str) -> None:
    assert canonical("period", text, language) == expected


def test_what_cannot_be_resolved_is_reported_not_dropped() -> None:
    slots = {
        "account_type": "кошелёк",
        "amount": "много денег",
        "card_last4": "12345",
        "city": "Атлантида",
        "date": "когда-нибудь",
        "mood": "весёлый",
        "currency": "долларов",
    }
    result = normalize_slots(slots, "ru", TODAY)
    assert result.canonical == {"currency": "USD"}
    assert set(result.unresolved) == set(slots) - {"currency"}
    assert result.spoken == slots


def resolved_share(samples: int = 200) -> dict[tuple[str, str], tuple[int, int]]:
    """(slot, language) -> (resolved, total) over simulated utterances of every slot intent."""
    counts: Counter[tuple[str, str]] = Counter()
    totals: Counter[tuple[str, str]] = Counter()
    intents = [i for i in simulator.INTENT_WEIGHTS if load_taxonomy().slots_of(i)]
    for language in simulator.LANGUAGES:
        rng = random.Random(f"normalize:{language}")
        for intent in intents:
            for _ in range(samples):
                today = date(2025, 1, 1) + timedelta(days=rng.randrange(800))
                said = simulator.utterance(intent, language, rng, today)
                for slot, words in said.surface.items():
                    want = {slot: said.slots[slot]}
                    if slot == "amount" and "currency" not in said.surface:
                        want |= (
                            {"currency": said.slots["currency"]} if "currency" in said.slots else {}
                        )
                    got = normalize_slots({slot: words}, language, today).canonical
                    totals[slot, language] += 1
                    counts[slot, language] += {k: got.get(k) for k in want} == want
    return {key: (counts[key], totals[key]) for key in totals}


def test_round_trip_through_the_simulator() -> None:
    shares = resolved_share()
    slots = {slot for slot, _ in shares}
    assert slots == set(load_taxonomy().slots), "every slot of the contract is exercised"
    report = {f"{s}/{lang}": f"{ok}/{n}" for (s, lang), (ok, n) in sorted(shares.items())}
    print(report)
    assert all(ok == n for ok, n in shares.values()), report
