"""What a caller says about themselves: their identity, each kind's value as spoken, and a
sentence that gives it (the call simulator and the labelled PII set plant these)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from core import pii_ids
from core.pii import Person, card_number, lexicon

_SAY = {
    "ru": {
        "person_name": ("меня зовут {v}", "это {v}", "на связи {v}"),
        "phone": ("мой номер {v}", "телефон для связи {v}", "перезвоните мне на номер {v}"),
        "email": ("моя почта {v}", "пришлите ответ на почту {v}", "электронная почта {v}"),
        "card_number": ("номер карты {v}", "карта {v}", "номер моей карты {v}"),
        "passport": ("паспорт {v}", "мои паспортные данные {v}", "серия и номер паспорта {v}"),
        "snils": ("мой СНИЛС {v}", "СНИЛС {v}", "номер СНИЛС {v}"),
        "inn": ("мой ИНН {v}", "ИНН {v}", "идентификационный номер налогоплательщика {v}"),
        "address": ("мой адрес {v}", "я живу по адресу {v}", "адрес регистрации {v}"),
    },
    "en": {
        "person_name": ("my name is {v}", "this is {v}", "it's {v} speaking"),
        "phone": ("my number is {v}", "you can call me back on {v}", "my phone is {v}"),
        "email": ("my email is {v}", "send it to {v}", "my email address is {v}"),
        "card_number": ("my card number is {v}", "the card is {v}", "card number {v}"),
        "passport": ("my passport number is {v}", "passport {v}", "my passport is {v}"),
        "snils": ("my SNILS is {v}", "my pension insurance number is {v}", "SNILS {v}"),
        "inn": ("my INN is {v}", "my taxpayer number is {v}", "tax number {v}"),
        "address": ("my address is {v}", "I live at {v}", "you can send it to {v}"),
    },
}


@dataclass(frozen=True)
class Identity:
    """The personal data a customer can give about themselves."""

    person: Person
    phone: str
    email: str
    passport: str
    snils: str = ""
    inn: str = ""
    address: str = ""


def russian_numbers(key: str, language: str, city: str) -> tuple[str, str, str]:
    """(SNILS, INN, home address) of a customer, drawn from ``key`` (their id) so that the
    CRM need not store them; ``city`` is a canonical city of the lexicon."""
    rng = random.Random(f"russian-numbers:{key}")
    forms = lexicon()["cities"].get(city, {"ru": city, "en": [city]})
    place = forms["ru"] if language == "ru" else forms["en"][0]
    return pii_ids.snils(rng), pii_ids.inn_person(rng), pii_ids.home_address(rng, language, place)


def spoken_value(rng: random.Random, kind: str, who: Identity) -> str:
    """The value of ``kind`` as the customer says it (their own data; cards are new)."""
    if kind == "person_name":
        p = who.person
        if p.language == "ru":
            return rng.choice((p.name(), p.full_name, f"{p.first[0]} {p.patronymic}"))
        return p.name()
    if kind == "card_number":
        return card_number(rng)
    values = {"phone": who.phone, "email": who.email, "passport": who.passport}
    return (values | {"snils": who.snils, "inn": who.inn, "address": who.address})[kind]


def pii_sentence(rng: random.Random, kind: str, value: str, language: str) -> str:
    """A short sentence giving ``value``, capitalized and ended with a period."""
    text = rng.choice(_SAY[language][kind]).format(v=value)
    return text[0].upper() + text[1:] + "."
