# ruff: noqa: RUF001 (Russian text uses Cyrillic letters on purpose)
"""What customers say and what the bot answers, per intent of the taxonomy, in ru and en.

A customer utterance is a core phrasing of its intent (``phrasebook/<lang>.yaml``, 16+
genuinely different cores per intent) dressed with optional openers, disfluencies,
politeness and closers as people speak on the phone. Slot placeholders are filled with
realistic values in the right grammatical form (Russian cases and number agreement); the
slot dict holds the canonical value (currency "USD" when the text says "долларов").
"""

from __future__ import annotations

import calendar
import dataclasses
import random
import string
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from core import pii
from core.taxonomy import load_taxonomy

PHRASEBOOK = Path(__file__).with_name("phrasebook")
LANGUAGES = ("ru", "en")
#: How often each intent comes up in calls (relative weights; the simulator and the
#: synthetic training data share this traffic mix).
INTENT_WEIGHTS: dict[str, int] = {
    "greeting": 5,
    "goodbye": 3,
    "help": 4,
    "check_balance": 10,
    "block_card": 6,
    "activate_card": 5,
    "change_pin": 5,
    "transfer_money": 9,
    "payment_status": 7,
    "exchange_rate": 6,
    "account_statement": 5,
    "loan_info": 5,
    "report_fraud": 4,
    "branch_hours": 4,
    "find_branch": 4,
    "complaint": 4,
    "talk_to_operator": 7,
    "out_of_scope": 6,
}

#: Placeholder -> the slot it realizes (``money`` also sets ``currency`` where allowed).
PLACEHOLDER_SLOT = {
    "account": "account_type",
    "account_gen": "account_type",
    "account_dat": "account_type",
    "account_prep": "account_type",
    "account_from": "account_type",
    "last4": "card_last4",
    "money": "amount",
    "currency": "currency",
    "currency_gen": "currency",
    "currency_plural": "currency",
    "recipient": "recipient",
    "recipient_dat": "recipient",
    "recipient_gen": "recipient",
    "date": "date",
    "period": "period",
    "city": "city",
    "city_in": "city",
}

ACCOUNT_TYPES = ("checking", "savings", "credit", "deposit")
CURRENCIES = ("RUB", "USD", "EUR", "CNY")


@lru_cache(maxsize=2)
def phrasebook(language: str) -> dict[str, Any]:
    """The phrasebook of ``language``: openers, disfluencies, politeness, closers, intents."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; expected one of {LANGUAGES}")
    return yaml.safe_load((PHRASEBOOK / f"{language}.yaml").read_text(encoding="utf-8"))


def placeholders(template: str) -> list[str]:
    """The ``{name}`` fields of a template, in order."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------- numbers


def _plural_ru(n: int) -> str:
    """Russian number agreement: "one" (1 рубль), "few" (2 рубля), "many" (5 рублей)."""
    if 11 <= n % 100 <= 14:
        return "many"
    return {1: "one", 2: "few", 3: "few", 4: "few"}.get(n % 10, "many")


def _group(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


def money_text(amount: int, currency: str, language: str, rng: random.Random | None = None) -> str:
    """An amount as said: "5 000 рублей", "50 тысяч долларов", "$300", "1,200 euros"."""
    spoken = rng is not None and rng.random() < 0.3
    if language == "ru":
        forms = pii.lexicon()["currencies"]["ru"][currency]
        thousands = amount // 1000
        round_thousands = amount % 1000 == 0 and 2 <= thousands < 1000
        if spoken and round_thousands and _plural_ru(thousands) != "one":  # nom = acc
            word = "тысячи" if _plural_ru(thousands) == "few" else "тысяч"
            return f"{thousands} {word} {forms['many']}"
        return f"{_group(amount, ' ')} {forms[_plural_ru(amount)]}"
    names = pii.lexicon()["currencies"]["en"][currency]
    if spoken and amount % 1000 == 0 and 2 <= amount // 1000 < 1000:
        return f"{amount // 1000} thousand {names['plural']}"
    if currency == "USD" and rng is not None and rng.random() < 0.3:
        return f"${_group(amount, ',')}"
    return f"{_group(amount, ',')} {names['plural'] if amount != 1 else names['name']}"


def _amount(rng: random.Random, intent: str, currency: str) -> int:
    """A plausible amount of money for the intent and currency."""
    if intent == "loan_info":
        return rng.choice((50, 100, 150, 200, 300, 400, 500, 700, 1000, 1500, 2000, 3000)) * 1000
    if currency == "RUB":
        if intent == "payment_status" and rng.random() < 0.4:
            return rng.randint(150, 25_000)  # a bill: odd amounts
        return rng.randint(1, 150) * rng.choice((100, 500, 1000))
    if currency == "CNY":
        return rng.randint(1, 100) * 100
    return rng.randint(1, 100) * rng.choice((10, 50))


# --------------------------------------------------------------------------- dates

_RU_DAYS_AGO = {3: "три дня", 4: "четыре дня", 5: "пять дней", 6: "шесть дней", 10: "десять дней"}
_EN_NUMBERS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 10: "ten"}
_RU_MONTHS_N = {2: "последние два месяца", 3: "последние три месяца", 6: "последние полгода"}


def _months(language: str, key: str = "") -> list[str]:
    months = pii.lexicon()["months"]
    return months["en"] if language == "en" else months[f"ru_{key or 'gen'}"]


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def date_text(day: date, today: date, language: str, rng: random.Random | None = None) -> str:
    """A past date as said on the phone: "вчера", "в среду", "28 декабря", "on December 28"."""
    offset = (today - day).days
    style = rng.random() if rng is not None else 0.85  # no rng: "28 декабря", "on December 28"
    weekdays = pii.lexicon()["weekdays"]
    if language == "ru":
        relative = {0: "сегодня", 1: "вчера", 2: "позавчера"}
        if offset in relative and style < 0.8:
            return relative[offset]
        if offset in _RU_DAYS_AGO and style < 0.5:
            return f"{_RU_DAYS_AGO[offset]} назад"
        if 3 <= offset <= 6 and style < 0.8:
            return weekdays["ru_on"][day.weekday()]
        if 7 <= offset <= 13 and style < 0.5:
            return weekdays["ru_last"][day.weekday()]
        return f"{day.day} {_months('ru')[day.month - 1]}"
    relative = {0: "today", 1: "yesterday", 2: "the day before yesterday"}
    if offset in relative and style < 0.8:
        return relative[offset]
    if offset in _EN_NUMBERS and style < 0.5:
        return f"{_EN_NUMBERS[offset]} days ago"
    if 3 <= offset <= 6 and style < 0.8:
        return f"on {weekdays['en'][day.weekday()]}"
    if 7 <= offset <= 13 and style < 0.5:
        return f"last {weekdays['en'][day.weekday()]}"
    month = _months("en")[day.month - 1]
    if style < 0.9:
        return f"on {month} {day.day}"
    return f"on the {_ordinal(day.day)} of {month}"


def _month_start(day: date, back: int) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _month_end(start: date) -> date:
    return start.replace(day=calendar.monthrange(start.year, start.month)[1])


def _random_period(rng: random.Random, today: date, language: str) -> tuple[date, date, str]:
    """(start, end, words) of a period a customer asks a statement for."""
    ru = language == "ru"
    kind = rng.randrange(7)
    if kind == 0:
        start = _month_start(today, 1)
        return start, _month_end(start), "за прошлый месяц" if ru else "for last month"
    if kind == 1:
        start = _month_start(today, rng.choice((1, 2)))
        name = _months(language, "nom")[start.month - 1]
        return start, _month_end(start), f"за {name}" if ru else f"for {name}"
    if kind == 2:
        n = rng.choice((2, 3, 6))
        start = _month_start(today, n).replace(day=1) + timedelta(days=min(today.day, 28) - 1)
        words = f"за {_RU_MONTHS_N[n]}" if ru else f"for the last {_EN_NUMBERS[n]} months"
        return start, today, words
    if kind == 3:
        words = rng.choice(("за последнюю неделю", "за неделю")) if ru else "for the past week"
        return today - timedelta(days=6), today, words
    if kind == 4:
        start = today.replace(day=1)
        words = rng.choice(("с начала месяца", "за этот месяц")) if ru else "for this month"
        return start, today, words
    if kind == 5:
        month = _month_start(today, 1)
        a, b = rng.randint(1, 14), rng.randint(15, 28)
        start, end = month.replace(day=a), month.replace(day=b)
        if ru:
            return start, end, f"с {a} по {b} {_months('ru')[month.month - 1]}"
        name = _months("en")[month.month - 1]
        return start, end, f"from {name} {a} to {name} {b}"
    year = today.year - 1
    words = rng.choice((f"за {year} год", "за прошлый год")) if ru else f"for {year}"
    return date(year, 1, 1), date(year, 12, 31), words


def period_text(value: str, language: str) -> str:
    """Words for a canonical period "YYYY-MM-DD/YYYY-MM-DD" (the bot's wording)."""
    start, end = (date.fromisoformat(p) for p in value.split("/"))
    ru = language == "ru"
    if start.day == 1 and end == _month_end(start):
        name = _months(language, "nom")[start.month - 1]
        return f"за {name}" if ru else f"for {name}"
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        return f"за {start.year} год" if ru else f"for {start.year}"
    if ru:
        gen = _months("ru")
        return f"с {start.day} {gen[start.month - 1]} по {end.day} {gen[end.month - 1]}"
    en = _months("en")
    return f"from {en[start.month - 1]} {start.day} to {en[end.month - 1]} {end.day}"


# --------------------------------------------------------------------------- slot values


@dataclass
class _Slots:
    """Fills placeholders on demand, choosing each slot's value once (format_map target)."""

    intent: str
    language: str
    rng: random.Random
    today: date
    allowed: tuple[str, ...]
    values: dict[str, Any] = field(default_factory=dict)
    surface: dict[str, str] = field(default_factory=dict)
    _cache: dict[str, str] = field(default_factory=dict)
    _picked: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> str:
        if key not in self._cache:
            self._cache[key] = self._render(key)
            slot = PLACEHOLDER_SLOT[key]
            self.surface.setdefault(slot, self._cache[key])
        return self._cache[key]

    def _pick(self, slot: str) -> Any:
        """Choose the canonical value (and any surface variant) of ``slot`` once."""
        if slot in self._picked:
            return self._picked[slot]
        rng, lex = self.rng, pii.lexicon()
        if slot == "account_type":
            kind = rng.choice(ACCOUNT_TYPES)
            picked: Any = (kind, rng.choice(lex["accounts"][self.language][kind]))
        elif slot == "currency":
            choices = CURRENCIES if self.intent == "transfer_money" else CURRENCIES[1:]
            weights = (6, 2, 1, 1) if self.intent == "transfer_money" else (5, 4, 2)
            picked = rng.choices(choices, weights)[0]
        elif slot == "recipient":
            person = pii.random_person(rng, self.language)
            picked = (person, rng.random() < 0.7)
        elif slot == "city":
            canonical = rng.choice(sorted(lex["cities"]))
            picked = (canonical, rng.choice(lex["cities"][canonical]["en"]))
        elif slot == "date":
            day = self.today - timedelta(days=rng.choice((0, 1, 1, 2, 3, 4, 5, 6, 8, 10, 15, 25)))
            picked = (day, date_text(day, self.today, self.language, rng))
        elif slot == "period":
            picked = _random_period(rng, self.today, self.language)
        elif slot == "card_last4":
            picked = f"{rng.randrange(10_000):04d}"
        else:
            raise KeyError(slot)
        self._picked[slot] = picked
        return picked

    def _set(self, slot: str, value: Any) -> None:
        if slot in self.allowed:
            self.values[slot] = value

    def _render(self, key: str) -> str:
        ru = self.language == "ru"
        if key.startswith("account"):
            kind, variant = self._pick("account_type")
            self._set("account_type", kind)
            if not ru:
                return variant
            return variant[{"account": "nom"}.get(key, key.removeprefix("account_"))]
        if key == "last4":
            self._set("card_last4", self._pick("card_last4"))
            return self.values["card_last4"]
        if key == "money":
            currency = self._pick("currency") if "currency" in self.allowed else "RUB"
            amount = _amount(self.rng, self.intent, currency)
            self._set("amount", amount)
            self._set("currency", currency)
            return money_text(amount, currency, self.language, self.rng)
        if key.startswith("currency"):
            code = self._pick("currency")
            self._set("currency", code)
            if ru:
                forms = pii.lexicon()["currencies"]["ru"][code]
                return forms[{"currency": "nom", "currency_gen": "gen"}.get(key, "plural")]
            names = pii.lexicon()["currencies"]["en"][code]
            return names["plural"] if key == "currency_plural" else names["name"]
        if key.startswith("recipient"):
            person, with_last = self._pick("recipient")
            self._set("recipient", person.name(0, with_last))
            return person.name({"recipient_gen": 1, "recipient_dat": 2}.get(key, 0), with_last)
        if key == "date":
            day, words = self._pick("date")
            self._set("date", day.isoformat())
            return words
        if key == "period":
            start, end, words = self._pick("period")
            self._set("period", f"{start.isoformat()}/{end.isoformat()}")
            return words
        if key.startswith("city"):
            canonical, english = self._pick("city")
            self._set("city", canonical)
            if not ru:
                return english
            forms = pii.lexicon()["cities"][canonical]
            return forms["ru_in"] if key == "city_in" else forms["ru"]
        raise KeyError(key)


# --------------------------------------------------------------------------- utterances


@dataclass(frozen=True)
class Utterance:
    """A customer's words with their labels."""

    intent: str
    language: str
    text: str
    slots: dict[str, Any]
    template: str  # the text with slot values masked as {placeholders}
    surface: dict[str, str]  # slot -> the words that realize it in the text


def _compose(rng: random.Random, book: dict[str, Any], intent: str, core: str) -> str:
    """Dress a core phrasing as spoken on the phone; returns a template (slots unfilled).

    A core ending in "?" is a question, in "." a statement (never gets "please"), else a
    request; ``bare`` intents (greeting, goodbye) get only disfluencies.
    """
    spec = book["intents"][intent]
    bare = spec.get("bare", False)
    term = core[-1] if core[-1] in "?." else ""
    body = core[:-1] if term else core
    lead: list[str] = []
    if not bare and rng.random() < 0.35:
        lead.append(rng.choice(book["openers"]))
    if rng.random() < 0.25:
        lead.append(rng.choice(book["disfluencies"]))
    politeness = book["politeness"] if not term else book["politeness"][:1]
    if not bare and term != "." and politeness[0] not in body and rng.random() < 0.25:
        body = f"{body}, {rng.choice(politeness)}"
    term = term or "."
    text = ", ".join([*lead, body]) + term
    if not bare and rng.random() < 0.2:
        closer = rng.choice(book["closers"] + spec.get("closers", []))
        text = f"{text} {_cap(closer)}."
    return text


def _ordered(slots: dict[str, Any], intent: str) -> dict[str, Any]:
    return {name: slots[name] for name in load_taxonomy().slots_of(intent) if name in slots}


def _intent_spec(intent: str, language: str) -> dict[str, Any]:
    book = phrasebook(language)
    if intent not in book["intents"]:
        raise ValueError(f"no phrasings for intent {intent!r}")
    return book["intents"][intent]


def _filled(
    intent: str, language: str, rng: random.Random, today: date, template: str
) -> Utterance:
    filler = _Slots(intent, language, rng, today, load_taxonomy().slots_of(intent))
    text = template.format_map(filler)
    return Utterance(
        intent, language, text, _ordered(filler.values, intent), template, dict(filler.surface)
    )


def utterance(intent: str, language: str, rng: random.Random, today: date) -> Utterance:
    """One customer utterance of ``intent`` in ``language`` with its slots, as said on a call."""
    core = rng.choice(_intent_spec(intent, language)["cores"])
    template = _cap(_compose(rng, phrasebook(language), intent, core))
    said = _filled(intent, language, rng, today, template)
    return dataclasses.replace(said, text=_cap(said.text))


def typed_utterance(intent: str, language: str, rng: random.Random, today: date) -> Utterance:
    """One chat message of ``intent``: a ``typed`` phrasing as written (no openers or
    disfluencies), slots filled; raises ``ValueError`` if the intent has no typed phrasings."""
    typed = _intent_spec(intent, language).get("typed", [])
    if not typed:
        raise ValueError(f"no typed phrasings for intent {intent!r} in {language!r}")
    return _filled(intent, language, rng, today, rng.choice(typed))


def typed_intents(language: str) -> list[str]:
    """The intents with ``typed`` phrasings in ``language``."""
    return [name for name, spec in phrasebook(language)["intents"].items() if spec.get("typed")]


def core_count(intent: str, language: str) -> int:
    """How many distinct core phrasings ``intent`` has in ``language``."""
    return len(set(phrasebook(language)["intents"][intent]["cores"]))


def phrase_count(intent: str, language: str, samples: int = 2000, seed: int = 0) -> int:
    """Distinct phrasings (slot values masked) among ``samples`` generated utterances."""
    rng = random.Random(f"phrase-count:{seed}")
    today = date(2026, 1, 15)
    return len({utterance(intent, language, rng, today).template for _ in range(samples)})


# --------------------------------------------------------------------------- bot (NLG)

_HOURS = {
    "ru": (
        "по будням с 9:00 до 20:00, в субботу с 10:00 до 17:00",
        "ежедневно с 9:00 до 21:00",
        "с понедельника по пятницу с 9:00 до 19:00",
    ),
    "en": (
        "on weekdays from 9:00 to 20:00 and on Saturdays from 10:00 to 17:00",
        "daily from 9:00 to 21:00",
        "Monday to Friday from 9:00 to 19:00",
    ),
}
_RATES = {"USD": 92.0, "EUR": 100.0, "CNY": 12.7, "RUB": 1.0}


def _decimal(value: float, language: str) -> str:
    text = f"{value:.2f}"
    return text.replace(".", ",") if language == "ru" else text


def _bot_fields(
    slots: dict[str, Any], language: str, rng: random.Random, today: date
) -> dict[str, str]:
    """Every placeholder a response may use, from canonical slot values (plus bot facts)."""
    lex, ru = pii.lexicon(), language == "ru"
    fields: dict[str, str] = {}
    if "account_type" in slots:
        variant = lex["accounts"][language][slots["account_type"]][0]
        if ru:
            fields |= {f"account_{k}": v for k, v in variant.items()} | {"account": variant["nom"]}
        else:
            fields["account"] = variant
    if "card_last4" in slots:
        fields["last4"] = slots["card_last4"]
    if "amount" in slots:
        fields["money"] = money_text(slots["amount"], slots.get("currency", "RUB"), language)
    if "currency" in slots:
        code = slots["currency"]
        if ru:
            forms = lex["currencies"]["ru"][code]
            fields |= {"currency": forms["nom"], "currency_gen": forms["gen"]}
        else:
            fields["currency"] = lex["currencies"]["en"][code]["name"]
    if "recipient" in slots:
        name = slots["recipient"]
        fields["recipient"] = name
        if ru:
            fields |= {
                "recipient_dat": pii.decline_ru(name, 2),
                "recipient_gen": pii.decline_ru(name, 1),
            }
    if "date" in slots:
        fields["date"] = date_text(date.fromisoformat(slots["date"]), today, language)
    if "period" in slots:
        fields["period"] = period_text(slots["period"], language)
    if "city" in slots:
        city = lex["cities"][slots["city"]]
        fields |= (
            {"city": city["en"][0]} if not ru else {"city": city["ru"], "city_in": city["ru_in"]}
        )
    base = _RATES.get(slots.get("currency", "USD"), 92.0)
    buy = base * rng.uniform(0.97, 1.03)
    amount = int(slots.get("amount", 300_000))
    rate = rng.choice((14.9, 17.5, 19.9, 21.9, 24.5))
    street = rng.choice(lex["streets"][language])
    number = rng.randint(1, 120)
    fields |= {
        "balance": money_text(rng.randint(0, 3000) * 100 + rng.randint(0, 99), "RUB", language),
        "buy": _decimal(buy, language),
        "sell": _decimal(buy * 1.04, language),
        "rate": _decimal(rate, language).rstrip("0").rstrip(",."),
        "payment": money_text(
            max(100, int(round(amount * (1 + rate / 150) / 36, -2))), "RUB", language
        ),
        "hours": rng.choice(_HOURS[language]),
        "address": f"{street}, {number}" if ru else f"{number} {street}",
        "ticket": f"CMP-{rng.randint(100_000, 999_999)}",
        "wait": str(rng.randint(2, 4)),
    }
    return fields


def bot_response(
    intent: str, language: str, slots: dict[str, Any], rng: random.Random, today: date
) -> str:
    """The bot's answer: a response of ``intent`` using as many of the given slots as fit."""
    responses = phrasebook(language)["intents"][intent]["responses"]
    known = {PLACEHOLDER_SLOT[p] for p in PLACEHOLDER_SLOT} & set(slots)
    usable = []
    for template in responses:
        needed = {PLACEHOLDER_SLOT[p] for p in placeholders(template) if p in PLACEHOLDER_SLOT}
        if needed <= known:
            usable.append((len(needed), template))
    best = max(n for n, _ in usable)
    template = rng.choice([t for n, t in usable if n == best])
    return _cap(template.format_map(_bot_fields(slots, language, rng, today)))
