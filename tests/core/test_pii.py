"""Personal data (core.pii): realistic formats, Luhn-valid cards, detection of what was planted."""

from __future__ import annotations

import random
import re
from datetime import date

from core import language as nl
from core import pii, pii_planting

PHONE_FORMATS = (
    r"\+7 \(9\d\d\) \d{3}-\d{2}-\d{2}",
    r"8 9\d\d \d{3} \d{2} \d{2}",
    r"89\d{9}",
    r"\+44 20 \d{4} \d{4}",
    r"\+1-\d{3}-555-\d{4}",
)


def test_cards_are_luhn_valid_spaced_and_unspaced() -> None:
    rng = random.Random(1)
    spaced = [pii.card_number(rng, spaced=True) for _ in range(300)]
    plain = [pii.card_number(rng, spaced=False) for _ in range(300)]
    assert all(re.fullmatch(r"\d{4} \d{4} \d{4} \d{4}", c) for c in spaced)
    assert all(re.fullmatch(r"\d{16}", c) for c in plain)
    assert all(pii.luhn_valid(c) for c in spaced + plain)
    assert pii.luhn_valid("4539 1488 0343 6467")
    assert not pii.luhn_valid("4539 1488 0343 6468")


def test_phones_passports_and_names_look_real() -> None:
    rng = random.Random(2)
    phones = [pii.phone_ru(rng) for _ in range(200)] + [
        pii.phone_international(rng) for _ in range(100)
    ]
    for phone in phones:
        assert any(re.fullmatch(f, phone) for f in PHONE_FORMATS), phone
    assert {p[0] for p in phones} >= {"+", "8"}
    assert all(re.fullmatch(r"\d{2} \d{2} \d{6}", pii.passport_ru(rng)) for _ in range(50))
    person = pii.random_person(random.Random(3), "ru")
    last, first, patronymic = person.full_name.split()
    assert patronymic.endswith(("вич", "вна")) and first[0].isupper() and last[0].isupper()
    assert pii.person_from_full_name(person.full_name, "ru") == person
    english = pii.random_person(rng, "en")
    assert len(english.full_name.split()) == 2
    assert re.fullmatch(r"[a-z0-9._]+@[a-z.]+", pii.email(rng, person))


def test_detection_finds_every_generated_format() -> None:
    rng = random.Random(4)
    ru, en = pii.random_person(rng, "ru"), pii.random_person(rng, "en")
    samples = {
        "phone": [pii.phone_ru(rng) for _ in range(30)]
        + [pii.phone_international(rng) for _ in range(30)],
        "card_number": [pii.card_number(rng) for _ in range(30)],
        "email": [pii.email(rng, ru), pii.email(rng, en)],
        "passport": [pii.passport_ru(rng) for _ in range(20)]
        + [pii.passport_foreign(rng) for _ in range(40)],
        "person_name": [ru.full_name, ru.short_name, ru.name(2), en.full_name],
    }
    for kind, values in samples.items():
        for value in values:
            for language in ("ru", "en"):
                sentence = pii_planting.pii_sentence(rng, kind, value, language)
                assert pii.pii_kinds(sentence) == [kind], (kind, sentence)


def test_no_personal_data_detected_in_clean_utterances() -> None:
    """Only transfer recipients (a person_name slot) are personal data in generated words."""
    rng = random.Random(6)
    today = date(2026, 1, 15)
    for language in ("ru", "en"):
        for intent in nl.phrasebook(language)["intents"]:
            for _ in range(120):
                said = nl.utterance(intent, language, rng, today)
                bot = nl.bot_response(intent, language, said.slots, rng, today)
                expected = ["person_name"] if "recipient" in said.slots else []
                assert pii.pii_kinds(said.text) == expected, said.text
                assert pii.pii_kinds(bot) in ([], expected), bot
