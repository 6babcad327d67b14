# ruff: noqa: RUF001 (Russian text uses Cyrillic letters on purpose)
"""Personal data planted as in real life: names, phones, card numbers, emails, passports,
SNILS, INN and home addresses (the last three from :mod:`core.pii_ids`).

Generators draw from a seeded ``random.Random``; :func:`pii_kinds` finds which kinds of
personal data a text holds (the same formats the generators write), so redaction can be
tested against what was planted. What a caller says about themselves is
:mod:`core.pii_planting`; finding personal data in any text is :mod:`core.pii_detect`.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from core import pii_ids

#: The kinds of personal data the simulator plants.
PII_KINDS: tuple[str, ...] = (
    "person_name",
    "phone",
    "card_number",
    "email",
    "passport",
    "snils",
    "inn",
    "address",
)

LEXICON = Path(__file__).with_name("phrasebook") / "lexicon.yaml"


@lru_cache(maxsize=1)
def lexicon() -> dict[str, Any]:
    """The slot-value lexicon (names, cities, accounts, currencies, months...)."""
    return yaml.safe_load(LEXICON.read_text(encoding="utf-8"))


def also_said(slot: str, value: str) -> list[str]:
    """The lexicon's ``also_said`` forms of ``value`` of ``slot``: what callers say besides
    the generated forms (recognized, never generated)."""
    return list(lexicon().get("also_said", {}).get(slot, {}).get(value, []))


# --------------------------------------------------------------------------- names


def surname_forms(base: str, female: bool) -> tuple[str, str, str]:
    """(nominative, genitive, dative) of a Russian surname given in its masculine form."""
    if base.endswith(("ский", "цкий")):
        stem = base[:-2]
        return (
            (stem + "ая", stem + "ой", stem + "ой")
            if female
            else (base, stem + "ого", stem + "ому")
        )
    return (base + "а", base + "ой", base + "ой") if female else (base, base + "а", base + "у")


@dataclass(frozen=True)
class Person:
    """A customer or a transfer recipient."""

    language: str  # "ru" | "en"
    first: tuple[str, str, str]  # nominative, genitive, dative (English: the same thrice)
    last: tuple[str, str, str]
    patronymic: str = ""
    female: bool = False

    @property
    def full_name(self) -> str:
        """As a CRM stores it: "Иванов Иван Петрович" / "James Smith"."""
        if self.language == "ru":
            return f"{self.last[0]} {self.first[0]} {self.patronymic}"
        return f"{self.first[0]} {self.last[0]}"

    @property
    def short_name(self) -> str:
        """As an agent abbreviates it: "Иванов И. П." / "J. Smith"."""
        if self.language == "ru":
            return f"{self.last[0]} {self.first[0][0]}. {self.patronymic[0]}."
        return f"{self.first[0][0]}. {self.last[0]}"

    def name(self, case: int = 0, with_last: bool = True) -> str:
        """First (and last) name; ``case`` 0 nominative, 1 genitive, 2 dative."""
        return f"{self.first[case]} {self.last[case]}" if with_last else self.first[case]


def random_person(rng: random.Random, language: str) -> Person:
    """A random Russian (with patronymic) or English person."""
    names = lexicon()["names"]
    female = rng.random() < 0.5
    if language == "ru":
        first = tuple(rng.choice(names["ru_female" if female else "ru_male"]))
        patronymic = rng.choice(names["ru_patronymics"])[int(female)]
        last = surname_forms(rng.choice(names["ru_surnames"]), female)
        return Person("ru", first, last, patronymic, female)  # type: ignore[arg-type]
    first_name = rng.choice(names["en_female" if female else "en_male"])
    last_name = rng.choice(names["en_surnames"])
    return Person("en", (first_name,) * 3, (last_name,) * 3, "", female)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def _ru_name_cases() -> dict[str, tuple[str, str, str]]:
    """Every Russian name word (nominative) -> its (nominative, genitive, dative)."""
    names = lexicon()["names"]
    table: dict[str, tuple[str, str, str]] = {}
    for forms in names["ru_male"] + names["ru_female"]:
        table[forms[0]] = tuple(forms)  # type: ignore[assignment]
    for base in names["ru_surnames"]:
        for female in (False, True):
            forms3 = surname_forms(base, female)
            table[forms3[0]] = forms3
    return table


def person_from_full_name(full_name: str, language: str) -> Person:
    """Rebuild a :class:`Person` from a CRM ``full_name`` (as :attr:`Person.full_name` wrote it)."""
    words = full_name.split()
    if language == "ru" and len(words) == 3:
        last, first, patronymic = words
        table = _ru_name_cases()
        return Person(
            "ru",
            table.get(first, (first,) * 3),
            table.get(last, (last,) * 3),
            patronymic,
            patronymic.endswith("на"),
        )
    first, last = words[0], " ".join(words[1:])
    return Person(language, (first,) * 3, (last,) * 3)


def decline_ru(name: str, case: int) -> str:
    """A Russian name in nominative ("Иван Петров") put in ``case`` (1 gen, 2 dat)."""
    table = _ru_name_cases()
    return " ".join(table[w][case] if w in table else w for w in name.split())


@lru_cache(maxsize=1)
def _name_pattern() -> re.Pattern[str]:
    """Whole-word, case-sensitive match of any name form the simulator writes."""
    names = lexicon()["names"]
    words: set[str] = set()
    for forms in _ru_name_cases().values():
        words.update(forms)
    for pair in names["ru_patronymics"]:
        words.update(pair)
    words.update(names["en_male"] + names["en_female"])
    alternatives = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


# --------------------------------------------------------------------------- numbers


def luhn_valid(number: str) -> bool:
    """True if the digits of ``number`` (spaces allowed) pass the Luhn check."""
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) < 2:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _luhn_digit(body: str) -> str:
    for check in "0123456789":
        if luhn_valid(body + check):
            return check
    raise AssertionError("unreachable")


#: Issuer prefixes of Mir, Visa and Mastercard cards of Russian banks.
CARD_PREFIXES = ("2200", "2202", "2204", "4276", "4279", "4100", "5469", "5536")


def card_number(rng: random.Random, spaced: bool | None = None) -> str:
    """A Luhn-valid 16-digit card number, "4276 1234 5678 9012" or unspaced."""
    body = rng.choice(CARD_PREFIXES) + "".join(str(rng.randrange(10)) for _ in range(11))
    number = body + _luhn_digit(body)
    if spaced is None:
        spaced = rng.random() < 0.7
    return " ".join(number[i : i + 4] for i in range(0, 16, 4)) if spaced else number


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


def phone_ru(rng: random.Random) -> str:
    """A Russian mobile number in one of the ways people write it."""
    code, a, b, c = f"9{_digits(rng, 2)}", _digits(rng, 3), _digits(rng, 2), _digits(rng, 2)
    return rng.choice((f"+7 ({code}) {a}-{b}-{c}", f"8 {code} {a} {b} {c}", f"8{code}{a}{b}{c}"))


def phone_international(rng: random.Random) -> str:
    """A UK or US number: "+44 20 7946 0958", "+1-202-555-0143"."""
    if rng.random() < 0.5:
        return f"+44 20 {rng.randint(3, 8)}{_digits(rng, 3)} {_digits(rng, 4)}"
    return f"+1-{rng.choice(('202', '212', '415', '617'))}-555-{_digits(rng, 4)}"


def phone(rng: random.Random, language: str) -> str:
    if language == "en" and rng.random() < 0.6:
        return phone_international(rng)
    return phone_ru(rng)


def passport_ru(rng: random.Random) -> str:
    """Series and number of a Russian internal passport: "45 08 123456"."""
    return f"{rng.randint(1, 99):02d} {rng.randint(0, 25):02d} {_digits(rng, 6)}"


def passport_foreign(rng: random.Random) -> str:
    """A Russian international (75 1234567), British (9 digits) or US (A12345678) passport."""
    kind = rng.randrange(3)
    if kind == 0:
        return f"{rng.choice(('72', '75', '76'))} {_digits(rng, 7)}"
    if kind == 1:
        return f"{rng.randint(1, 9)}{_digits(rng, 8)}"
    return f"{rng.choice('ACEGHJKLMNPRSTUVWXYZ')}{_digits(rng, 8)}"


def _latin(word: str) -> str:
    translit = lexicon()["translit"]
    return "".join(translit.get(c, c) for c in word.lower())


EMAIL_DOMAINS = {
    "ru": ("mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru", "list.ru", "rambler.ru"),
    "en": ("gmail.com", "outlook.com", "yahoo.com", "hotmail.co.uk", "icloud.com", "proton.me"),
}


def email(rng: random.Random, person: Person) -> str:
    """An email address derived from the person's name, as people pick them."""
    first, last = _latin(person.first[0]), _latin(person.last[0])
    user = rng.choice(
        (
            f"{first}.{last}",
            f"{last}.{first[0]}",
            f"{first[0]}{last}{rng.randint(1, 99)}",
            f"{last}{rng.randint(1970, 2005)}",
            f"{first}_{last}",
        )
    )
    return f"{user}@{rng.choice(EMAIL_DOMAINS[person.language])}"


# --------------------------------------------------------------------------- detection

_PATTERNS: dict[str, re.Pattern[str]] = {
    "phone": re.compile(
        r"\+7 \(\d{3}\) \d{3}-\d{2}-\d{2}"
        r"|(?<!\d)(?<!\d )8 \d{3} \d{3} \d{2} \d{2}(?!\d)"
        r"|(?<!\d)8\d{10}(?!\d)"
        r"|\+44 \d{2} \d{4} \d{4}"
        r"|\+1-\d{3}-\d{3}-\d{4}"
    ),
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "passport": re.compile(
        r"(?<!\d)(?<!\d )\d{2} \d{2} \d{6}(?!\d)"
        r"|(?<!\d)(?<!\d )\d{2} \d{7}(?!\d)"
        r"|(?<!\w)[A-Z]\d{8}(?!\d)"
        r"|(?<![\d+-])\d{9}(?!\d)"
    ),
}
_CARD = re.compile(r"(?<!\d)(?<!\d )(?:\d{4} ){3}\d{4}(?!\d)|(?<!\d)\d{16}(?!\d)")
_CHECKED: dict[str, tuple[re.Pattern[str], Any]] = {
    "snils": (re.compile(r"(?<!\d)\d{3}-\d{3}-\d{3} \d{2}(?!\d)"), pii_ids.snils_valid),
    "inn": (re.compile(r"(?<!\d)\d{12}(?!\d)"), pii_ids.inn_valid),
}
_FLAT = re.compile(r"(?:кв\.|квартира|flat|apt\.|apartment) \d+")


def pii_kinds(text: str) -> list[str]:
    """The kinds of personal data in ``text`` (sorted), in the formats the simulator writes."""
    found = {kind for kind, pattern in _PATTERNS.items() if pattern.search(text)}
    if any(luhn_valid(m.group()) for m in _CARD.finditer(text)):
        found.add("card_number")
    for kind, (pattern, valid) in _CHECKED.items():
        if any(valid(m.group()) for m in pattern.finditer(text)):
            found.add(kind)
    if _FLAT.search(text):
        found.add("address")
    if _name_pattern().search(text):
        found.add("person_name")
    return sorted(found)
