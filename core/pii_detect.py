# ruff: noqa: RUF001 (Russian text uses Cyrillic letters on purpose)
"""Personal data in free text, Russian or English: one API, spans with their kind.

:func:`detect` finds emails, card numbers (Luhn), SNILS and INN (their checksums), phone
numbers (``phonenumbers``, Russian and international), passports (a number next to the word
passport), home addresses (street, house and a flat, or a street after "my address"), and
person names (:mod:`core.pii_names`). Overlaps keep the span found first in :data:`KINDS`
order (a checksum beats a guess). :func:`redact` writes the warehouse's placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from core.pii import luhn_valid
from core.pii_ids import inn_valid, snils_valid

#: Kinds in priority order (an earlier kind wins an overlap).
KINDS: tuple[str, ...] = (
    "email",
    "card_number",
    "snils",
    "inn",
    "passport",
    "phone",
    "address",
    "person_name",
)

#: The placeholder each kind becomes, as the warehouse writes it.
PLACEHOLDERS = {
    "email": "<EMAIL>",
    "card_number": "<CARD>",
    "snils": "<SNILS>",
    "inn": "<INN>",
    "passport": "<PASSPORT>",
    "phone": "<PHONE>",
    "address": "<ADDRESS>",
    "person_name": "<PERSON>",
}


@dataclass(frozen=True, order=True)
class Span:
    """``text[start:end]`` is personal data of ``kind``."""

    start: int
    end: int
    kind: str
    text: str


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CARD = re.compile(
    r"(?<![\d-])(?:\d{4}[ -]){3}\d{4}(?:[ -]?\d{1,3})?(?![\d-])|(?<!\d)\d{16,19}(?!\d)"
)
_SNILS = re.compile(r"(?<![\d-])\d{3}[- ]?\d{3}[- ]?\d{3}[- ]?\d{2}(?![\d-])")
_INN = re.compile(r"(?<![\d-])(?:\d{12}|\d{10})(?![\d-])")
_INN_CUE = re.compile(r"(?:инн|inn|taxpayer|tax (?:id|number))\W{0,12}$", re.I)
_PASSPORT = re.compile(
    r"(?<![\d+-])(?:\d{2} ?\d{2} \d{6}|\d{2} \d{7}|[A-Z]\d{8}|\d{9})(?![\d-])",
)
_PASSPORT_CUE = re.compile(r"(?:паспорт\w*|passport)\D{0,30}$", re.I)
_ADDRESS = re.compile(
    r"(?:(?:г\.|город) ?)?(?:[А-ЯЁ][а-яё-]+, )?"
    r"(?:ул\.|улица|пр-т|проспект|пер\.|переулок|бульвар|шоссе) [А-ЯЁ][а-яё-]+,? "
    r"(?:д\.|дом) ?\d+[а-я]?(?:,? (?:кв\.|квартира) ?\d+)?"
    r"|\d+[A-Za-z]? (?:[A-Z][a-z]+ )+(?:Street|St\.|Road|Rd\.|Avenue|Ave\.|Lane|Drive)"
    r"(?:,? (?:flat|apt\.?|apartment) \d+)?(?:, [A-Z][a-z]+(?: [A-Z][a-z]+)?)?"
)
_FLAT = re.compile(r"кв\.|квартира|flat|apt|apartment")
_ADDRESS_CUE = re.compile(
    r"(?:адрес\w*|живу|проживаю|прописк\w*|address|live at|living at)\W{0,20}$", re.I
)
_SNILS_SHAPE = re.compile(r"\d{3}-\d{3}-\d{3} \d{2}")
_PHONE_CUE = re.compile(r"(?:телефон\w*|звон\w*|мобильн\w*|phone|call\w*|mobile)\D{0,20}$", re.I)
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")
_WINDOW = 40


def _cued(cue: re.Pattern[str], text: str, start: int) -> bool:
    return bool(cue.search(text[max(0, start - _WINDOW) : start]))


def _emails(text: str) -> Iterator[tuple[int, int]]:
    yield from (m.span() for m in _EMAIL.finditer(text))


def _cards(text: str) -> Iterator[tuple[int, int]]:
    yield from (m.span() for m in _CARD.finditer(text) if luhn_valid(m.group()))


def _snils(text: str) -> Iterator[tuple[int, int]]:
    yield from (m.span() for m in _SNILS.finditer(text) if snils_valid(m.group()))


def _inns(text: str) -> Iterator[tuple[int, int]]:
    for m in _INN.finditer(text):
        # a random 12-digit number passes both check digits 1 time in 100, a 10-digit one
        # 1 in 10: the shorter (an organisation's) needs the word INN next to it
        if inn_valid(m.group()) and (len(m.group()) == 12 or _cued(_INN_CUE, text, m.start())):
            yield m.span()


def _passports(text: str) -> Iterator[tuple[int, int]]:
    for m in _PASSPORT.finditer(text):
        if _cued(_PASSPORT_CUE, text, m.start()):
            yield m.span()


def _phones(text: str) -> Iterator[tuple[int, int]]:
    import phonenumbers

    # POSSIBLE (the length fits the country's plan) rather than VALID: an unallocated London
    # block is still someone's number as far as privacy goes
    for match in phonenumbers.PhoneNumberMatcher(text, "RU", phonenumbers.Leniency.POSSIBLE):
        raw = match.raw_string
        if _SNILS_SHAPE.fullmatch(raw) or sum(c.isdigit() for c in raw) < 10:
            continue
        # ten bare digits are an order number as often as a phone without its 8 / +7
        if raw.isdigit() and len(raw) == 10 and not _cued(_PHONE_CUE, text, match.start):
            continue
        yield match.start, match.end


def _addresses(text: str) -> Iterator[tuple[int, int]]:
    for m in _ADDRESS.finditer(text):
        # a bank branch ("улица Ленина, д. 12") is no one's home: a flat or "my address" is
        if _FLAT.search(m.group()) or _cued(_ADDRESS_CUE, text, m.start()):
            yield m.span()


def _names(text: str) -> Iterator[tuple[int, int]]:
    from core import pii_names

    if _CYRILLIC.search(text):
        yield from pii_names.russian_names(text)
    yield from pii_names.english_names(text)  # Latin capitalised words only


_FINDERS: dict[str, Callable[[str], Iterator[tuple[int, int]]]] = {
    "email": _emails,
    "card_number": _cards,
    "snils": _snils,
    "inn": _inns,
    "passport": _passports,
    "phone": _phones,
    "address": _addresses,
    "person_name": _names,
}


def detect(text: str, kinds: tuple[str, ...] = KINDS) -> list[Span]:
    """Every span of personal data in ``text`` (Russian or English), sorted, not overlapping."""
    taken: list[Span] = []
    for kind in KINDS:
        if kind not in kinds:
            continue
        for start, end in _FINDERS[kind](text):
            if all(end <= s.start or start >= s.end for s in taken):
                taken.append(Span(start, end, kind, text[start:end]))
    return sorted(taken)


def redact(text: str, kinds: tuple[str, ...] = KINDS) -> str:
    """``text`` with every span :func:`detect` finds replaced by its kind's placeholder."""
    for span in reversed(detect(text, kinds)):
        text = text[: span.start] + PLACEHOLDERS[span.kind] + text[span.end :]
    return text
