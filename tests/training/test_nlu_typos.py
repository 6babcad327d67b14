# ruff: noqa: RUF001 (Russian text uses Cyrillic letters on purpose)
"""Typing noise for NLU training rows: one edit per word, slot values untouched."""

from __future__ import annotations

import random

from rapidfuzz.distance import OSA

from training.nlu.bio import OUTSIDE, bio_tags
from training.nlu.synthetic import synthetic_rows
from training.nlu.text import tokenize
from training.nlu.typos import misspell, typo_row, with_typos


def test_misspell_makes_one_edit_in_the_word_s_alphabet():
    rng = random.Random(0)
    for word in ("balance", "заблокировать", "transfer", "выписка"):
        for _ in range(50):
            typo = misspell(word, rng)
            assert OSA.distance(word, typo) <= 1 and typo[0] == word[0]
            cyrillic = any("а" <= c <= "я" for c in word)
            assert all(("а" <= c <= "я" or c == "ё") == cyrillic for c in typo), typo


def test_typo_rows_keep_tokens_and_slot_values():
    rows = [r for r in synthetic_rows(6, seed=2) if r["slots"]]
    rng, changed = random.Random(1), 0
    for row in rows:
        copy = typo_row(row, rng)
        if copy is None:
            continue
        changed += 1
        before, after = tokenize(row["text"]), tokenize(copy["text"])
        assert len(before) == len(after) and copy["text"] != row["text"]
        tags, missing = bio_tags(after, copy["slots"])
        assert missing == bio_tags(before, row["slots"])[1]
        for old, new, tag in zip(before, after, tags, strict=True):
            assert old == new or (tag == OUTSIDE and OSA.distance(old, new) == 1)
        assert copy["intent"] == row["intent"] and copy["example_id"] != row["example_id"]
    assert changed > len(rows) // 2


def test_with_typos_copies_about_the_share_and_repeats():
    rows = synthetic_rows(6, seed=2)
    copies = with_typos(rows, 0.3, seed=5)
    assert 0.2 * len(rows) < len(copies) < 0.35 * len(rows)
    assert copies == with_typos(rows, 0.3, seed=5)
    assert with_typos(rows, 0.0, seed=5) == []
