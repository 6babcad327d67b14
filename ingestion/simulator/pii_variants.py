"""Personal data written in ways the simulator's calls never write it: the detector's blind spots.

The call simulator writes each kind in a few fixed formats, and the labelled set measures the
detector on those. These renderings (dotted or dashed phones, grouped INN digits, a passport's
series and number said apart, a spoken email, a lower-cased name as speech recognition writes
it, an address without the word street) measure what it misses outside them.
"""

from __future__ import annotations

import random

_DOMAIN_WORDS = {"ru": (" собака ", " точка "), "en": (" at ", " dot ")}


def _phone(rng: random.Random, value: str) -> str:
    digits = "".join(c for c in value if c.isdigit())
    if not digits.startswith(("7", "8")) or len(digits) != 11:
        return value.replace(" ", ".").replace("-", ".")
    n = digits[1:]
    return rng.choice(
        (
            f"8-{n[:3]}-{n[3:6]}-{n[6:8]}-{n[8:]}",
            f"8.{n[:3]}.{n[3:6]}.{n[6:8]}.{n[8:]}",
            f"+7 {n[:3]} {n[3:6]} {n[6:8]} {n[8:]}",
            f"({n[:3]}) {n[3:6]}-{n[6:]}",
        )
    )


def _email(rng: random.Random, value: str, language: str) -> str:
    at, dot = _DOMAIN_WORDS[language]
    user, domain = value.split("@")
    return user + at + domain.replace(".", dot) if rng.random() < 0.5 else value.upper()


def _passport(value: str, language: str) -> str:
    parts = value.split()
    if len(parts) == 3:  # Russian internal: series 45 08, number 123456
        word = " номер " if language == "ru" else " number "
        return f"{parts[0]} {parts[1]}{word}{parts[2]}"
    return " ".join(value.replace(" ", ""))  # digit by digit, as dictated


def _address(value: str) -> str:
    for word in ("ул. ", "улица ", "пр-т ", "проспект ", "пер. ", "переулок ", "д. ", "дом "):
        value = value.replace(word, "")
    for word in (" Street", " Road", " Avenue", " Lane"):
        value = value.replace(word, "")
    return value


def variant(rng: random.Random, kind: str, value: str, language: str) -> str:
    """``value`` of ``kind`` in a rendering the call simulator does not use."""
    digits = "".join(c for c in value if c.isdigit())
    if kind == "phone":
        return _phone(rng, value)
    if kind == "card_number":
        return "-".join(digits[i : i + 4] for i in range(0, len(digits), 4))
    if kind == "email":
        return _email(rng, value, language)
    if kind == "passport":
        return _passport(value, language)
    if kind == "snils":
        return (
            digits
            if rng.random() < 0.5
            else f"{digits[:3]} {digits[3:6]} {digits[6:9]}-{digits[9:]}"
        )
    if kind == "inn":
        return " ".join(digits[i : i + 4] for i in range(0, 12, 4))
    if kind == "address":
        return _address(value)
    return value.lower()  # person_name: speech recognition writes no capitals
