# ruff: noqa: RUF001 (Russian text uses Cyrillic letters on purpose)
"""Delexicalization: slot values and bot facts in a response <-> ``<placeholder>`` tokens.

The model only ever writes placeholders; the values are put back by :func:`relexicalize`
with the bot's own formatting (``core.language``), so an amount or a card
number in an answer is always the one the dialogue asked about.

* Slot placeholders are the phrasebook's field names (``<money>``, ``<account_prep>``,
  ``<recipient_dat>``...), filled from the request's canonical slots.
* Fact placeholders (``<balance>``, ``<ticket>``, ``<hours>``...) are values the bot's back
  end supplies (a balance, a complaint number): located by pattern, filled from ``facts``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from core import language as nl
from core import pii

PLACEHOLDER_RE = re.compile(r"<([a-z_0-9]+)>")
REDACTED = "<PERSON>"
#: The case a redacted recipient ("<PERSON>") stands in: the bot's ru answers use the dative.
REDACTED_FORM = {"ru": "recipient_dat", "en": "recipient"}

#: Slot placeholder -> the slots its text carries (``money`` says amount and currency).
SLOT_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "account": ("account_type",),
    "account_gen": ("account_type",),
    "account_dat": ("account_type",),
    "account_prep": ("account_type",),
    "account_from": ("account_type",),
    "last4": ("card_last4",),
    "money": ("amount", "currency"),
    "currency": ("currency",),
    "currency_gen": ("currency",),
    "recipient": ("recipient",),
    "recipient_dat": ("recipient",),
    "recipient_gen": ("recipient",),
    "date": ("date",),
    "period": ("period",),
    "city": ("city",),
    "city_in": ("city",),
}
FACT_NAMES = ("ticket", "rate", "wait", "hours", "address", "buy", "sell", "payment", "balance")


@lru_cache(maxsize=1)
def lexicon() -> dict[str, Any]:
    """The simulator's lexicon, read once (``pii.lexicon`` reads the YAML on every call)."""
    return pii.lexicon()


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------- slot surfaces


def _plural_ru(n: int) -> str:
    if 11 <= n % 100 <= 14:
        return "many"
    return {1: "one", 2: "few", 3: "few", 4: "few"}.get(n % 10, "many")


def _money_variants(amount: int, currency: str, language: str) -> list[str]:
    """The bot's rendering first, then other ways the amount may be written."""
    canonical = nl.money_text(amount, currency, language)
    out = [canonical, canonical.replace(" ", "\u00a0", canonical.count(" ") - 1)]
    number = canonical.rsplit(" ", 1)
    if language == "ru":
        forms = lexicon()["currencies"]["ru"][currency]
        out.append(f"{amount} {number[-1]}")
        if amount % 1000 == 0 and amount >= 2000:
            k = amount // 1000
            word = {"one": "тысяча", "few": "тысячи"}.get(_plural_ru(k), "тысяч")
            out.append(f"{k} {word} {forms['many']}")
    else:
        names = lexicon()["currencies"]["en"][currency]
        out.append(f"{amount} {number[-1]}")
        if amount % 1000 == 0 and amount >= 2000:
            out.append(f"{amount // 1000} thousand {names['plural']}")
        if currency == "USD":
            out.append(f"${amount:,}")
    return list(dict.fromkeys(out))


def _date_variants(value: str, language: str) -> list[str]:
    day = date.fromisoformat(value)
    canonical = nl.date_text(day, day, language)  # no rng: the bot's absolute wording
    if language == "ru":
        return [canonical]
    month = lexicon()["months"]["en"][day.month - 1]
    suffix = "th" if 11 <= day.day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day.day % 10)
    return [canonical, f"on the {day.day}{suffix or 'th'} of {month}", f"{month} {day.day}"]


def _whole_number(value: Any) -> int | None:
    """An amount as an int (5000, 5000.0, "5000"); None when it is not a whole number."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() and number >= 0 else None


def slot_variants(slots: dict[str, Any], language: str) -> dict[str, list[str]]:
    """Placeholder -> its surface forms for these slots, the bot's formatting first."""
    lex, ru = lexicon(), language == "ru"
    out: dict[str, list[str]] = {}
    if slots.get("account_type") in lex["accounts"][language]:
        variants = lex["accounts"][language][slots["account_type"]]
        if ru:  # prep before dat: equal forms ("кредитной карте") go to the case the bot uses
            for key, case in (
                ("account_from", "from"),
                ("account_prep", "prep"),
                ("account", "nom"),
                ("account_gen", "gen"),
                ("account_dat", "dat"),
            ):
                out[key] = [v[case] for v in variants]
        else:
            out["account"] = list(variants)
    if slots.get("card_last4"):
        out["last4"] = [str(slots["card_last4"])]
    currency = slots.get("currency")
    amount = _whole_number(slots.get("amount"))
    if amount is not None:
        out["money"] = _money_variants(amount, currency or "RUB", language)
    if currency in lex["currencies"][language]:
        forms = lex["currencies"][language][currency]
        if ru:
            out |= {"currency": [forms["nom"]], "currency_gen": [forms["gen"]]}
        else:
            out["currency"] = [forms["name"]]
    if slots.get("recipient"):
        name = str(slots["recipient"])
        if name == REDACTED:
            out[REDACTED_FORM[language]] = [REDACTED]
        elif ru:
            out |= {
                "recipient_dat": [pii.decline_ru(name, 2)],
                "recipient_gen": [pii.decline_ru(name, 1)],
                "recipient": [name],
            }
        else:
            out["recipient"] = [name]
        out.setdefault(REDACTED_FORM[language], []).append(REDACTED)
    if slots.get("date"):
        out["date"] = _date_variants(str(slots["date"]), language)
    if slots.get("period"):
        out["period"] = [nl.period_text(str(slots["period"]), language)]
    if slots.get("city") in lex["cities"]:
        city = lex["cities"][slots["city"]]
        out |= {"city": [city["ru"]], "city_in": [city["ru_in"]]} if ru else {"city": city["en"]}
    return out


def slot_fields(slots: dict[str, Any], language: str) -> dict[str, str]:
    """Placeholder -> the text the bot says for it (its first, canonical surface form)."""
    return {key: forms[0] for key, forms in slot_variants(slots, language).items()}


# --------------------------------------------------------------------------- facts


@lru_cache(maxsize=2)
def fact_patterns(language: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(fact, pattern) in the order they are looked for; each fact is taken once."""
    streets = "|".join(re.escape(s) for s in lexicon()["streets"][language])
    decimal = r"\d+[.,]\d{2}(?!\d)"
    if language == "ru":
        money = r"\d{1,3}(?:[ \u00a0]\d{3})* (?:рубл|доллар|евро|юан)\w*"
        hours = r"(?:по будням|ежедневно|с понедельника по пятницу)[^.]*\d{1,2}:\d{2}"
        address, wait, payment = rf"(?:{streets}), \d+", r"\d+(?= минут)", rf"(?<=около ){money}"
    else:
        money = r"\d{1,3}(?:,\d{3})* (?:rubles?|dollars?|euros?|yuan)\b"
        hours = r"(?:on weekdays|daily|Monday to Friday)[^.]*\d{1,2}:\d{2}"
        address, wait, payment = rf"\d+ (?:{streets})", r"\d+(?= minutes?)", rf"(?<=about ){money}"
    table = {
        "ticket": r"CMP-\d+",
        "rate": r"\d+(?:[.,]\d+)?(?=%)",
        "wait": wait,
        "hours": hours,
        "address": address,
        "buy": decimal,
        "sell": decimal,
        "payment": payment,
        "balance": money,
    }
    return tuple((name, re.compile(table[name])) for name in FACT_NAMES)


# --------------------------------------------------------------------------- both ways


@dataclass(frozen=True)
class Delexicalized:
    """A response with values replaced by placeholders, and what was (not) found."""

    template: str
    located: tuple[str, ...]  # slots whose value was found in the text
    unlocated: tuple[str, ...]  # slots given but not found (left as text, if present at all)
    facts: dict[str, str] = field(default_factory=dict)  # fact -> its value in the text


def _word_re(surface: str) -> re.Pattern[str]:
    first = re.escape(surface[:1])
    if surface[:1].isalpha():  # may start the sentence, capitalized
        first = f"[{re.escape(surface[:1])}{re.escape(_cap(surface[:1]))}]"
    return re.compile(rf"(?<![\w<]){first}{re.escape(surface[1:])}(?![\w>])")


def delexicalize(response: str, language: str, slots: dict[str, Any]) -> Delexicalized:
    """Replace slot values (longest surface first) then bot facts by placeholders."""
    candidates = [
        (surface, key) for key, forms in slot_variants(slots, language).items() for surface in forms
    ]
    candidates.sort(key=lambda item: -len(item[0]))  # stable: earlier forms win ties
    text, found = response, set()
    for surface, key in candidates:
        text, count = _word_re(surface).subn(f"<{key}>", text)
        if count:
            found.update(s for s in SLOT_PLACEHOLDERS[key] if s in slots)
    facts: dict[str, str] = {}
    for name, pattern in fact_patterns(language):
        match = pattern.search(text)
        if match:
            facts[name] = match.group(0)
            text = f"{text[: match.start()]}<{name}>{text[match.end() :]}"
    located = tuple(s for s in slots if s in found)
    unlocated = tuple(s for s in slots if s not in found)
    return Delexicalized(text, located, unlocated, facts)


def relexicalize(
    template: str, language: str, slots: dict[str, Any], facts: dict[str, str] | None = None
) -> str:
    """Fill placeholders from slots (bot formatting) and facts; unknown ones stay as they are."""
    values = slot_fields(slots, language) | (facts or {})
    text = PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), template)
    return _cap(text)


def unfilled(text: str) -> list[str]:
    """Placeholders left in a relexicalized text (a value the caller did not supply)."""
    return [m.group(1) for m in PLACEHOLDER_RE.finditer(text) if m.group(0) != REDACTED]
