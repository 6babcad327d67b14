# ruff: noqa: RUF001 (Russian text uses Cyrillic letters on purpose)
"""Personal-data detection (core.pii_detect): checksums, every kind in both languages, decoys."""

from __future__ import annotations

import random

import pytest

from core import pii_ids
from core.pii_detect import detect, redact


def test_snils_and_inn_checksums() -> None:
    assert pii_ids.snils_valid("112-233-445 95")  # the Pension Fund's documented example
    assert not pii_ids.snils_valid("112-233-445 96")
    assert pii_ids.inn_valid("7707083893")  # an organisation's (10 digits)
    assert not pii_ids.inn_valid("7707083894")
    assert pii_ids.inn_valid("500100732259")  # a person's (12 digits)
    assert not pii_ids.inn_valid("500100732258")
    rng = random.Random(1)
    assert all(pii_ids.snils_valid(pii_ids.snils(rng)) for _ in range(300))
    assert all(pii_ids.inn_valid(pii_ids.inn_person(rng)) for _ in range(300))


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("Меня зовут Смирнова Анна Сергеевна, спасибо.", "person_name", "Смирнова Анна Сергеевна"),
        ("Переведите 500 рублей Ивану Петрову.", "person_name", "Ивану Петрову"),
        ("This is Linda Johnson, thanks.", "person_name", "Linda Johnson"),
        ("Send 20 pounds to Helen, please.", "person_name", "Helen"),
        ("Перезвоните на +7 (912) 345-67-89.", "phone", "+7 (912) 345-67-89"),
        ("Мой номер 8 912 345 67 89.", "phone", "8 912 345 67 89"),
        ("Call me on +44 20 7946 0958.", "phone", "+44 20 7946 0958"),
        ("Карта 4276 1234 5678 9014 заблокирована?", "card_number", "4276 1234 5678 9014"),
        ("Write to j.smith@outlook.com today.", "email", "j.smith@outlook.com"),
        ("Паспорт 45 08 123456.", "passport", "45 08 123456"),
        ("My passport is A12345678.", "passport", "A12345678"),
        ("СНИЛС 112-233-445 95.", "snils", "112-233-445 95"),
        ("ИНН 500100732259.", "inn", "500100732259"),
        ("Tax number 7707083893.", "inn", "7707083893"),
        (
            "Адрес: г. Казань, ул. Лесная, д. 12, кв. 34.",
            "address",
            "г. Казань, ул. Лесная, д. 12, кв. 34",
        ),
        ("I live at 14 Oak Road, flat 7, London.", "address", "14 Oak Road, flat 7, London"),
    ],
)
def test_each_kind_is_found_with_its_span(text: str, kind: str, value: str) -> None:
    assert [(s.kind, s.text) for s in detect(text) if s.kind == kind] == [(kind, value)]


@pytest.mark.parametrize(
    "text",
    [
        "Номер заказа 1234567890, сумма 15 000 рублей.",
        "Номер обращения 4276 1234 5678 9012.",  # Luhn-invalid
        "Код операции 112-233-445 96.",  # SNILS shape, wrong checksum
        "Договор 500100732258 от 15.01.2026.",  # 12 digits, wrong INN check digits
        "Organisation 7707083893 paid.",  # a valid 10-digit INN with no word INN near it
        "Ближайшее отделение: улица Ленина, 12.",  # a bank branch, no flat
        "Алло, перезвоните мне, пожалуйста.",
        "Order 123456789 ships in May.",
        "Where can I find an ATM in Rostov-on-Don?",
    ],
)
def test_look_alikes_are_not_personal_data(text: str) -> None:
    assert detect(text) == [], detect(text)


def test_redact_writes_the_warehouse_placeholders() -> None:
    text = "Меня зовут Иван Петров, карта 4276 1234 5678 9014, СНИЛС 112-233-445 95."
    assert redact(text) == "Меня зовут <PERSON>, карта <CARD>, СНИЛС <SNILS>."
    assert redact("ИНН 500100732259", kinds=("email",)) == "ИНН 500100732259"
