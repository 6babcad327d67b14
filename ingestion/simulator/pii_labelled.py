"""A labelled set for PII detection: the simulator's utterances with personal data planted at
known offsets, and look-alikes that are not personal data.

Every example is a caller's turn (an intent's utterance from the phrasebook, whose transfer
recipient is a gold name) with zero to two sentences of planted personal data (every kind of
:data:`core.pii.PII_KINDS`, checksums valid) and, half of the time, a decoy: an order number,
an amount, a date, a Luhn-invalid 16-digit reference, a checksum-invalid SNILS-shaped or
12-digit number, a bank branch's address.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from core import language as nl
from core import pii, pii_ids, pii_planting
from core.pii_detect import Span
from ingestion.simulator.pii_variants import variant


@dataclass(frozen=True)
class Labelled:
    """One text and its gold personal-data spans."""

    language: str
    text: str
    gold: tuple[Span, ...]


def _digits(rng: random.Random, n: int) -> str:
    return str(rng.randint(1, 9)) + "".join(str(rng.randrange(10)) for _ in range(n - 1))


def _spoil(number: str, valid: object) -> str:
    """``number`` with its last digit changed until ``valid`` (a checker) rejects it."""
    for d in "0123456789":
        candidate = number[:-1] + d
        if not valid(candidate):  # type: ignore[operator]
            return candidate
    raise AssertionError("unreachable")


def decoy(rng: random.Random, language: str) -> str:
    """A sentence with a number or address that looks like personal data but is not."""
    ru = language == "ru"
    card = _spoil(pii.card_number(rng, spaced=rng.random() < 0.5), pii.luhn_valid)
    snils = _spoil(pii_ids.snils(rng), pii_ids.snils_valid)
    twelve = _spoil(_digits(rng, 12), pii_ids.inn_valid)
    street = rng.choice(pii.lexicon()["streets"][language])
    options = (
        (f"Номер заказа {_digits(rng, rng.choice((9, 10)))}.", f"Order {_digits(rng, 10)}."),
        (f"Сумма {rng.randint(1, 99)} 000 рублей.", f"The amount is {rng.randint(1, 99)},000.00."),
        (f"Платёж от {rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.2026.", "Paid 15.01.2026."),
        (f"Номер обращения {card}.", f"Reference {card}."),
        (f"Код операции {snils}.", f"Transaction code {snils}."),
        (f"Номер договора {twelve}.", f"Contract number {twelve}."),
        (f"Отделение на {street}, {rng.randint(1, 99)}.", f"The branch is at 12 {street}."),
    )
    pair = rng.choice(options)
    return pair[0] if ru else pair[1]


def _identity(rng: random.Random, language: str, key: str) -> pii_planting.Identity:
    person = pii.random_person(rng, language)
    passport = pii.passport_ru(rng) if language == "ru" else pii.passport_foreign(rng)
    city = rng.choice(sorted(pii.lexicon()["cities"]))
    numbers = pii_planting.russian_numbers(key, language, city)
    return pii_planting.Identity(
        person, pii.phone(rng, language), pii.email(rng, person), passport, *numbers
    )


def _recipient(text: str, slots: dict[str, object], language: str) -> tuple[int, int] | None:
    name = slots.get("recipient")
    if not isinstance(name, str):
        return None
    forms = [pii.decline_ru(name, c) for c in (0, 1, 2)] if language == "ru" else [name]
    for form in sorted(set(forms), key=len, reverse=True):
        if form in text:
            start = text.index(form)
            return start, start + len(form)
    return None


def example(seed: int, index: int, variants: bool = False) -> Labelled:
    """Example ``index`` of the set drawn with ``seed``; ``variants``: the planted values in
    renderings the call simulator does not use (:mod:`ingestion.simulator.pii_variants`)."""
    rng = random.Random(f"pii-labelled:{seed}:{index}")
    language = ("ru", "en")[index % 2]
    who = _identity(rng, language, f"L{seed}-{index}")
    intent = rng.choice(sorted(nl.phrasebook(language)["intents"]))
    said = nl.utterance(intent, language, rng, date(2026, 1, 15))
    pieces: list[tuple[str, list[tuple[int, int, str]]]] = []
    found = _recipient(said.text, dict(said.slots), language)
    pieces.append((said.text, [(*found, "person_name")] if found else []))
    if rng.random() < 0.85:
        for kind in rng.sample(pii.PII_KINDS, rng.choice((1, 1, 2))):
            value = pii_planting.spoken_value(rng, kind, who)
            if variants:
                value = variant(rng, kind, value, language)
            sentence = pii_planting.pii_sentence(rng, kind, value, language)
            start = sentence.index(value)
            pieces.append((sentence, [(start, start + len(value), kind)]))
    if rng.random() < 0.5:
        pieces.append((decoy(rng, language), []))
    rng.shuffle(pieces)
    text, gold, offset = "", [], 0
    for sentence, spans in pieces:
        text += ("" if not text else " ") + sentence
        offset = len(text) - len(sentence)
        gold += [
            Span(offset + s, offset + e, kind, text[offset + s : offset + e])
            for s, e, kind in spans
        ]
    return Labelled(language, text, tuple(sorted(gold)))


def labelled_set(n: int, seed: int = 0, variants: bool = False) -> list[Labelled]:
    """``n`` labelled examples, half Russian, half English."""
    return [example(seed, i, variants) for i in range(n)]
