# ruff: noqa: RUF001, RUF002 (Russian words use Cyrillic letters on purpose)
"""Slot values as spoken -> canonical values: the inverse of the simulator's realization.

NLU returns the words that said a slot ("кредитной карте", "пять тысяч рублей", "Москве");
NLG and the dialogue need the canonical values of ``core/taxonomy.yaml`` ("credit", 5000
with "RUB", "Moscow"). Word forms come from the simulator's lexicon (``core.pii.lexicon``),
so a new account variant or city there is understood here too. A value that cannot be
resolved goes to ``unresolved`` with the reason, never silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from core import pii
from serving.numbers import DIGIT_WORDS, as_number, parse_number
from serving.temporal import parse_date, parse_period

#: Symbols and codes customers (and ASR) write for currencies.
_CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "₽": "RUB", "¥": "CNY", "руб": "RUB", "р": "RUB"}
_PREPOSITIONS = ("в", "во", "с", "со", "на", "по", "из", "in", "from", "to", "my", "the")


@dataclass
class NormalizedSlots:
    """Canonical slot values, the words they came from, and what could not be resolved."""

    canonical: dict[str, Any] = field(default_factory=dict)
    spoken: dict[str, str] = field(default_factory=dict)
    unresolved: dict[str, str] = field(default_factory=dict)  # slot -> reason


def _key(text: str) -> str:
    """Lowercase, ё -> е, punctuation dropped (hyphens kept), whitespace collapsed."""
    text = text.lower().replace("ё", "е")
    return " ".join(re.sub(r"[^\w\s$€₽¥-]", " ", text).split())


def _strip_preposition(key: str) -> str:
    head, _, tail = key.partition(" ")
    return tail if head in _PREPOSITIONS and tail else key


@lru_cache(maxsize=1)
def _accounts() -> dict[str, str]:
    """Every account word form of both languages (Russian cases too) -> account type."""
    index: dict[str, str] = {}
    for language, kinds in pii.lexicon()["accounts"].items():
        for kind, variants in kinds.items():
            for variant in variants:
                forms = variant.values() if language == "ru" else [variant]
                for form in forms:
                    index[_key(form)] = kind
                    index[_strip_preposition(_key(form))] = kind
    for kind, forms in pii.lexicon()["also_said"]["account_type"].items():
        index.update({_key(form): kind for form in forms})
    return index


@lru_cache(maxsize=1)
def _currencies() -> dict[str, str]:
    """Every currency word form (names, cases, plurals), ISO code and symbol -> code."""
    index = dict(_CURRENCY_SIGNS)
    for forms_by_code in pii.lexicon()["currencies"].values():
        for code, forms in forms_by_code.items():
            index[code.lower()] = code
            index.update({_key(form): code for form in forms.values()})
    for code, forms in pii.lexicon()["also_said"]["currency"].items():
        index.update({_key(form): code for form in forms})
    return index


@lru_cache(maxsize=1)
def _cities() -> dict[str, str]:
    """Every city form (Russian nominative and "в <city>", English spellings) -> city key."""
    index: dict[str, str] = {}
    for city, forms in pii.lexicon()["cities"].items():
        for form in [city, forms["ru"], forms["ru_in"], *forms["en"]]:
            index[_key(form)] = city
            index[_strip_preposition(_key(form))] = city
    return index


def _stem(word: str) -> str:
    """A word without its inflection (the last two letters of a long word)."""
    return word[:-2] if len(word) > 5 else word[:-1] if len(word) > 3 else word


def _lookup(text: str, index: dict[str, str], what: str) -> str:
    """The canonical value of ``text`` in ``index``: whole phrase, then the longest form inside."""
    key = _key(text)
    for candidate in (key, _strip_preposition(key)):
        if candidate in index:
            return index[candidate]
    padded = f" {key} "
    inside = [form for form in index if f" {form} " in padded]
    if inside:
        return index[max(inside, key=len)]
    raise ValueError(f"unknown {what} {text!r}")


def _city(text: str) -> str:
    """A city key; other case forms ("из Москвы") match by word stems when unambiguous."""
    try:
        return _lookup(text, _cities(), "city")
    except ValueError:
        words = _strip_preposition(_key(text)).split()
        hits = {
            city
            for form, city in _cities().items()
            if len(form.split()) == len(words)
            and all(w.startswith(_stem(f)) for w, f in zip(words, form.split(), strict=True))
        }
        if len(hits) == 1:
            return hits.pop()
        raise


def _currency_in(text: str) -> str | None:
    """The currency named anywhere in ``text`` ("5 000 рублей", "$300"), if any."""
    for sign in ("$", "€", "₽", "¥"):
        if sign in text:
            return _CURRENCY_SIGNS[sign]
    found = {_currencies()[w] for w in _key(text).split() if w in _currencies()}
    return found.pop() if len(found) == 1 else None


def _amount(text: str, language: str) -> tuple[int | float, str | None]:
    """(amount, currency or None) of "пять тысяч рублей", "$1,500", "2 thousand dollars"."""
    value, rest = parse_number(re.sub(r"[$€₽¥]", " ", text), language)
    currency = _currency_in(text)
    leftover = [w for w in rest if _key(w) not in _currencies()]
    if leftover:
        raise ValueError(f"words that are no amount: {' '.join(leftover)!r}")
    return as_number(value), currency


def _card_last4(text: str) -> str:
    """Four digits, written ("1234", "12 34") or spelled ("один два три четыре")."""
    digits = ""
    for token in re.findall(r"\d+|[^\W\d_]+", _key(text)):
        if token.isdigit():
            digits += token
        elif token in DIGIT_WORDS:
            digits += DIGIT_WORDS[token]
        else:
            raise ValueError(f"not a digit: {token!r}")
    if len(digits) != 4:
        raise ValueError(f"expected 4 digits, got {len(digits)} in {text!r}")
    return digits


@lru_cache(maxsize=1)
def _ru_names() -> dict[str, tuple[str, bool]]:
    """Russian first names in any case -> (nominative, female?)."""
    names = pii.lexicon()["names"]
    table: dict[str, tuple[str, bool]] = {}
    for female, key in ((False, "ru_male"), (True, "ru_female")):
        for forms in names[key]:
            table.update({form: (forms[0], female) for form in forms})
    return table


@lru_cache(maxsize=1)
def _ru_surnames() -> dict[tuple[str, bool], str]:
    """(surname in any case, female?) -> its nominative, by the simulator's declension."""
    table: dict[tuple[str, bool], str] = {}
    for base in pii.lexicon()["names"]["ru_surnames"]:
        for female in (False, True):
            forms = pii.surname_forms(base, female)  # the simulator's own declension
            table.update({(form, female): forms[0] for form in forms})
    return table


def _ru_surname(word: str, female: bool | None) -> str:
    """A surname in nominative agreeing with the first name's gender (unknown: as said)."""
    for gender in (False, True) if female is None else (female,):
        if (word, gender) in _ru_surnames():
            return _ru_surnames()[(word, gender)]
    return word


def _recipient(text: str, language: str) -> str:
    """A person's name, whitespace and capitals normalized; Russian cases -> nominative."""
    words = ["-".join(p[:1].upper() + p[1:].lower() for p in w.split("-")) for w in text.split()]
    if language != "ru" or not words:
        return " ".join(words)
    first, female = _ru_names().get(words[0], (words[0], None))
    return " ".join([first, *(_ru_surname(w, female) for w in words[1:])])


def normalize_slots(
    slots: dict[str, str], language: str, today: date | None = None
) -> NormalizedSlots:
    """Canonical values of the slots NLU read (as spoken); dates relative to ``today``."""
    today = today or date.today()
    parsers: dict[str, Callable[[str], Any]] = {
        "account_type": lambda t: _lookup(t, _accounts(), "account type"),
        "currency": lambda t: _lookup(t, _currencies(), "currency"),
        "card_last4": _card_last4,
        "city": _city,
        "recipient": lambda t: _recipient(t, language),
        "date": lambda t: parse_date(t, language, today),
        "period": lambda t: parse_period(t, language, today),
    }
    result = NormalizedSlots()
    for slot, text in slots.items():
        result.spoken[slot] = text
        try:
            if slot == "amount":
                amount, currency = _amount(text, language)
                result.canonical["amount"] = amount
                if currency and "currency" not in slots:
                    result.canonical["currency"] = currency
            elif slot in parsers:
                result.canonical[slot] = parsers[slot](text)
            else:
                result.unresolved[slot] = f"no normalizer for slot {slot!r}"
        except ValueError as error:
            result.unresolved[slot] = str(error)
    return result
