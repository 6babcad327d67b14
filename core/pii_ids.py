# ruff: noqa: RUF001, RUF002 (Russian text uses Cyrillic letters on purpose)
"""Russian identity numbers with check digits (SNILS, INN) and home addresses: generators
and validators.

SNILS (pension insurance number, ``123-456-789 64``): nine digits and a two-digit checksum of
the digits weighted 9..1, taken modulo 101 (100 and 101 give ``00``). INN (taxpayer number):
ten digits for an organisation, twelve for a person, each check digit a weighted sum modulo 11
(then modulo 10), as the Federal Tax Service defines them.
"""

from __future__ import annotations

import random

_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _only_digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def snils_checksum(nine: str) -> str:
    """The two check digits of the nine-digit SNILS body ``nine``."""
    total = sum(int(d) * (9 - i) for i, d in enumerate(nine))
    total = total % 101 if total > 101 else total
    return "00" if total in (100, 101) else f"{total:02d}"


def snils_valid(text: str) -> bool:
    """True if the digits of ``text`` are an 11-digit SNILS with a correct checksum."""
    digits = _only_digits(text)
    return len(digits) == 11 and snils_checksum(digits[:9]) == digits[9:]


def snils(rng: random.Random) -> str:
    """A checksum-valid SNILS as written on the card: ``123-456-789 64``."""
    body = f"{rng.randint(2_000_000, 999_999_999):09d}"  # numbers below 001-001-998 carry no check
    return f"{body[:3]}-{body[3:6]}-{body[6:]} {snils_checksum(body)}"


def _inn_digit(digits: str, weights: tuple[int, ...]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10)


def inn_valid(text: str) -> bool:
    """True if the digits of ``text`` are a 10- or 12-digit INN with correct check digits."""
    digits = _only_digits(text)
    if len(digits) == 10:
        return _inn_digit(digits, _INN10) == digits[9]
    if len(digits) == 12:
        return _inn_digit(digits, _INN11) == digits[10] and _inn_digit(digits, _INN12) == digits[11]
    return False


def inn_person(rng: random.Random) -> str:
    """A checksum-valid 12-digit INN of a person (region code 01-92 first)."""
    body = f"{rng.randint(1, 92):02d}" + "".join(str(rng.randrange(10)) for _ in range(8))
    body += _inn_digit(body, _INN11)
    return body + _inn_digit(body, _INN12)


_RU_STREET_TYPES = (("ул.", "улица"), ("пр-т", "проспект"), ("пер.", "переулок"))
_RU_STREETS = ("Ленина", "Гагарина", "Пушкина", "Лесная", "Школьная", "Садовая", "Мира")
_EN_STREETS = ("Baker", "High", "Church", "Park", "Oak", "Maple", "Victoria", "Station")
_EN_STREET_TYPES = ("Street", "Road", "Avenue", "Lane")


def home_address(rng: random.Random, language: str, city: str) -> str:
    """A home address with a flat number: "г. Казань, ул. Лесная, д. 12, кв. 34" /
    "14 Oak Road, flat 7, London" (``city`` in the address's language)."""
    house, flat = rng.randint(1, 120), rng.randint(1, 250)
    if language == "ru":
        short, long = rng.choice(_RU_STREET_TYPES)
        street = rng.choice(_RU_STREETS)
        if rng.random() < 0.5:
            return f"г. {city}, {short} {street}, д. {house}, кв. {flat}"
        return f"{city}, {long} {street}, дом {house}, квартира {flat}"
    street = f"{rng.choice(_EN_STREETS)} {rng.choice(_EN_STREET_TYPES)}"
    flat_word = rng.choice(("flat", "apt.", "apartment"))
    return f"{house} {street}, {flat_word} {flat}, {city}"
