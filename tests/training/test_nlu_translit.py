# ruff: noqa: RUF001 (Russian text uses Cyrillic letters on purpose)
"""Translit copies of Russian NLU training rows: Latin letters outside slot values."""

from __future__ import annotations

import random

from training.nlu.bio import OUTSIDE, bio_tags
from training.nlu.synthetic import synthetic_rows
from training.nlu.text import tokenize
from training.nlu.translit import LATIN, spelling, translit_row, transliterate, with_translit


def cyrillic(text: str) -> bool:
    return any(c in LATIN for c in text.lower())


def test_words_are_spelt_in_latin_letters_with_the_drawn_variants():
    letters = LATIN | {"ь": "", "х": "h", "я": "ia"}
    assert transliterate("заблокировать", letters) == "zablokirovat"
    assert transliterate("Хочу", letters) == "Hochu"
    assert transliterate("выписка", letters) == "vypiska"
    assert transliterate("деньги", LATIN | {"ь": "'"}) == "den'gi"
    assert transliterate("связь", letters) == "sviaz"
    spellings = {spelling(random.Random(seed))["х"] for seed in range(20)}
    assert spellings == {"h", "kh"}


def test_a_translit_copy_keeps_intent_and_slot_values_and_has_no_cyrillic_outside_them():
    rows = [r for r in synthetic_rows(6, seed=2) if r["language"] == "ru"]
    rng, with_slots = random.Random(3), 0
    for row in rows:
        copy = translit_row(row, rng)
        assert copy is not None, row["text"]
        assert copy["intent"] == row["intent"] and copy["slots"] == row["slots"]
        assert copy["example_id"] != row["example_id"] and copy["text"] != row["text"]
        tokens = tokenize(copy["text"])
        tags, missing = bio_tags(tokens, copy["slots"])
        assert missing == bio_tags(tokenize(row["text"]), row["slots"])[1]
        assert not any(cyrillic(t) for t, tag in zip(tokens, tags, strict=True) if tag == OUTSIDE)
        with_slots += bool(row["slots"])
    assert with_slots > 10


def test_with_translit_copies_about_the_share_of_russian_rows_and_repeats():
    rows = synthetic_rows(6, seed=2)
    russian = [r for r in rows if r["language"] == "ru"]
    copies = with_translit(rows, 0.3, seed=5)
    assert 0.2 * len(russian) < len(copies) < 0.4 * len(russian)
    assert {c["language"] for c in copies} == {"ru"}
    assert copies == with_translit(rows, 0.3, seed=5)
    assert with_translit(rows, 0.0, seed=5) == []
    english = [r for r in rows if r["language"] == "en"]
    assert with_translit(english, 1.0, seed=5) == []
