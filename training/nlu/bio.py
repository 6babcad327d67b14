# ruff: noqa: RUF001, RUF002 (Russian words use Cyrillic letters on purpose)
"""BIO slot tags: locate each slot's value among a text's tokens, and read spans back.

The mart holds canonical slot values ("USD", "checking", "Moscow", 5000, "2026-01-14"), not
the words that said them, so each value is matched against its surface forms: the slot
lexicon's word forms (Russian cases included), numbers as digits or "50 тысяч", dates and
periods as runs of temporal words. Token comparison forgives case, ё/е and word endings
(a shared prefix of all but the last two letters), which covers most Russian inflection.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from core.pii import also_said, lexicon
from core.taxonomy import load_taxonomy
from training.nlu.text import normalize, tokenize

OUTSIDE = "O"
PERSON = "<PERSON>"

_NUMBER_WORDS = [
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "два",
    "две",
    "три",
    "четыре",
    "пять",
    "шесть",
    "семь",
    "восемь",
    "девять",
    "десять",
]
_DATE_ANCHORS = ["today", "yesterday", "сегодня", "вчера", "позавчера", "ago", "назад"]
_DATE_WORDS = [
    "on",
    "the",
    "day",
    "days",
    "before",
    "of",
    "last",
    "в",
    "во",
    "прошлый",
    "прошлую",
    "прошлое",
    "дня",
    "дней",
]
_PERIOD_ANCHORS = [
    "month",
    "months",
    "week",
    "year",
    "years",
    "месяц",
    "месяца",
    "месяцев",
    "неделю",
    "неделя",
    "недели",
    "год",
    "года",
    "полгода",
]
_PERIOD_WORDS = [
    "за",
    "с",
    "со",
    "по",
    "from",
    "to",
    "for",
    "the",
    "last",
    "past",
    "this",
    "прошлый",
    "прошлую",
    "последние",
    "последний",
    "последнюю",
    "последний",
    "этот",
    "эту",
    "начала",
]


def tag_names() -> list[str]:
    """Every tag, in a fixed order: "O", then B-/I- of each taxonomy slot."""
    return [OUTSIDE] + [f"{p}-{slot}" for slot in load_taxonomy().slots for p in "BI"]


def same_word(a: str, b: str) -> bool:
    """Equal after normalization, or the same stem (shared prefix of all but 2 letters)."""
    a, b = normalize(a), normalize(b)
    if a == b:
        return True
    shortest = min(len(a), len(b))
    if shortest < 3 or not (a.isalpha() and b.isalpha()):
        return False
    prefix = len(next((x for x in (a[:i] for i in range(shortest, 0, -1)) if b.startswith(x)), ""))
    return prefix >= max(3, shortest - 2)


@lru_cache(maxsize=1)
def _temporal() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(date anchors, period anchors, months) from the lexicon, normalized."""
    lex = lexicon()
    months = {normalize(m) for forms in lex["months"].values() for m in forms}
    weekdays = {normalize(tokenize(w)[-1]) for forms in lex["weekdays"].values() for w in forms}
    return frozenset(weekdays | set(_DATE_ANCHORS)), frozenset(_PERIOD_ANCHORS), frozenset(months)


def _is_number(token: str) -> bool:
    return bool(re.fullmatch(r"\d{1,4}(st|nd|rd|th)?", token.lower()))


def _temporal_span(tokens: list[str], slot: str, taken: set[int]) -> tuple[int, int] | None:
    """The longest run of temporal words holding an anchor (a date's or a period's)."""
    date_anchors, period_anchors, months = _temporal()
    if slot == "date":
        anchors, words = date_anchors | months, set(_DATE_WORDS) | set(_NUMBER_WORDS)
    else:
        anchors, words = period_anchors | months, set(_PERIOD_WORDS) | set(_NUMBER_WORDS)
    best: tuple[int, int] | None = None
    i = 0
    while i < len(tokens):
        j, anchored = i, False
        while j < len(tokens) and j not in taken:
            word = normalize(tokens[j])
            if word in anchors or (_is_number(word) and j > i):
                anchored = True
            elif not (word in words or _is_number(word)):
                break
            j += 1
        if anchored and (best is None or j - i > best[1] - best[0]):
            best = (i, j)
        i = max(j, i + 1)
    return best


def _surfaces(slot: str, value: Any) -> list[list[str]]:
    """Token sequences that may say ``value`` of ``slot``, longest first."""
    lex, text = lexicon(), str(value)
    forms: list[str] = [text]
    if slot == "account_type":
        for lang in ("ru", "en"):
            for variant in lex["accounts"][lang].get(text, []):
                forms += list(variant.values()) if isinstance(variant, dict) else [variant]
    elif slot == "currency":
        for lang in ("ru", "en"):
            forms += list(lex["currencies"][lang].get(text, {}).values())
        forms += ["$"] if text == "USD" else []
    elif slot == "city":
        city = lex["cities"].get(text, {})
        forms += [*city.get("en", []), city.get("ru", "")]
    elif slot == "recipient" and text != PERSON:
        words = text.split()
        forms += [" ".join(reversed(words)), *words]
    forms += also_said(slot, text)
    sequences = [tokenize(f) for f in forms if f]
    sequences = [s[1:] if len(s) > 1 and normalize(s[0]) in ("с", "со") else s for s in sequences]
    return sorted(sequences, key=len, reverse=True)


def _find(tokens: list[str], sequence: list[str], taken: set[int]) -> tuple[int, int] | None:
    n = len(sequence)
    for start in range(len(tokens) - n + 1):
        span = range(start, start + n)
        if taken.isdisjoint(span) and all(
            same_word(tokens[k], w) for k, w in zip(span, sequence, strict=True)
        ):
            return start, start + n
    return None


def _amount_span(tokens: list[str], amount: Any, taken: set[int]) -> tuple[int, int] | None:
    try:
        number = int(float(amount))
    except (TypeError, ValueError):
        return _find(tokens, tokenize(str(amount)), taken)
    if number % 1000 == 0:
        for k in range(len(tokens) - 1):
            after = normalize(tokens[k + 1])
            thousands = tokens[k] == str(number // 1000) and after.startswith(("тысяч", "thousand"))
            if thousands and taken.isdisjoint((k, k + 1)):
                return k, k + 2
    return _find(tokens, [str(number)], taken)


def locate(tokens: list[str], slot: str, value: Any, taken: set[int]) -> tuple[int, int] | None:
    """[start, end) of the tokens saying ``value`` of ``slot`` (None when not found)."""
    if slot == "amount":
        return _amount_span(tokens, value, taken)
    if slot in ("date", "period"):
        return _temporal_span(tokens, slot, taken)
    for sequence in _surfaces(slot, value):
        if sequence and (span := _find(tokens, sequence, taken)):
            return span
    return None


#: Locate the most specific values first, so a looser one cannot take their tokens.
_ORDER = ("card_last4", "amount", "recipient", "account_type", "currency", "city", "period", "date")


def bio_tags(tokens: list[str], slots: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(a tag per token, slots that could not be located)."""
    tags, taken, missing = [OUTSIDE] * len(tokens), set[int](), []
    rank = {name: i for i, name in enumerate(_ORDER)}
    for slot in sorted(slots, key=lambda s: rank.get(s, len(rank))):
        span = locate(tokens, slot, slots[slot], taken)
        if span is None:
            missing.append(slot)
            continue
        start, end = span
        tags[start:end] = [f"B-{slot}"] + [f"I-{slot}"] * (end - start - 1)
        taken.update(range(start, end))
    return tags, missing


def spans(tags: list[str]) -> list[tuple[str, int, int]]:
    """(slot, start, end) of each BIO span; an I- not continuing a span starts one (CoNLL)."""
    found: list[tuple[str, int, int]] = []
    current: tuple[str, int] | None = None
    for i, tag in enumerate([*tags, OUTSIDE]):
        prefix, _, slot = tag.partition("-")
        if current and not (prefix == "I" and slot == current[0]):
            found.append((current[0], current[1], i))
            current = None
        if prefix == "B" or (prefix == "I" and current is None):
            current = (slot, i)
    return found


def detokenize(tokens: list[str]) -> str:
    """Tokens back to text: no space before punctuation, around dashes or after "$"."""
    text = " ".join(tokens)
    text = re.sub(r"\s+([,.!?:;%)])", r"\1", text)
    return re.sub(r"\s*-\s*", "-", text).replace("$ ", "$")


def slot_values(tokens: list[str], tags: list[str]) -> dict[str, str]:
    """{slot: words} from tagged tokens; the first span of a slot wins."""
    values: dict[str, str] = {}
    for slot, start, end in spans(tags):
        values.setdefault(slot, detokenize(tokens[start:end]))
    return values
