"""Typing noise for training rows: copies with misspelt words, so typos are not unknown land.

Callers who type misspell ("ballance", "заблокирвать"). The phrasebook cannot hold typos (the
simulator speaks its phrasings through TTS), so training adds them: :func:`with_typos` copies a
share of the rows with one or two words outside slot values edited once each (a letter
dropped, doubled, swapped with its neighbour or replaced by another of the same alphabet).
Slot tags stay valid: every edited word stays one alphabetic token.
"""

from __future__ import annotations

import random
from typing import Any

from training.nlu.bio import OUTSIDE, bio_tags
from training.nlu.text import tokenize

LATIN = "abcdefghijklmnopqrstuvwxyz"
CYRILLIC = "абвгдежзийклмнопрстуфхцчшщыьэюя"
MIN_LENGTH = 4  # shorter words are left alone: one edit makes another word of them


def misspell(word: str, rng: random.Random) -> str:
    """``word`` with one edit inside it (the first and last letters stay): a letter dropped,
    doubled, swapped with its neighbour or replaced. Words under MIN_LENGTH come back as is."""
    if len(word) < MIN_LENGTH:
        return word
    alphabet = CYRILLIC if any(c in CYRILLIC for c in word.lower()) else LATIN
    i = rng.randrange(1, len(word) - 1)
    edit = rng.choice(("drop", "double", "swap", "replace"))
    if edit == "drop":
        return word[:i] + word[i + 1 :]
    if edit == "double":
        return word[:i] + word[i] + word[i:]
    if edit == "swap":
        i = i if i + 1 < len(word) - 1 else i - 1  # swap letters i and i + 1, both inside
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + rng.choice(alphabet.replace(word[i].lower(), "")) + word[i + 1 :]


def _offsets(text: str, tokens: list[str]) -> list[int]:
    """Where each token starts in ``text`` (-1 for tokens not verbatim in it: digit groups)."""
    found, position = [], 0
    for token in tokens:
        start = text.find(token, position)
        found.append(start)
        if start >= 0:
            position = start + len(token)
    return found


def outside_words(row: dict[str, Any], min_length: int = 1) -> list[tuple[int, str]]:
    """(offset in the text, word) of each alphabetic token of ``row`` outside its slot values,
    ``min_length`` letters or longer, in text order: the words a copy may rewrite."""
    text = row["text"]
    tokens = tokenize(text)
    tags, _ = bio_tags(tokens, row.get("slots") or {})
    return [
        (start, token)
        for token, tag, start in zip(tokens, tags, _offsets(text, tokens), strict=True)
        if tag == OUTSIDE and token.isalpha() and len(token) >= min_length and start >= 0
    ]


def rewritten(text: str, words: list[tuple[int, str]], new_words: list[str]) -> str:
    """``text`` with each (offset, word) of ``words`` replaced by the new word in turn."""
    for (start, word), new in reversed(list(zip(words, new_words, strict=True))):
        text = text[:start] + new + text[start + len(word) :]  # right to left: offsets hold
    return text


def typo_row(row: dict[str, Any], rng: random.Random, max_edits: int = 2) -> dict[str, Any] | None:
    """A copy of ``row`` with 1..max_edits words misspelt (None: no word took a typo)."""
    candidates = outside_words(row, MIN_LENGTH)
    if not candidates:
        return None
    chosen = sorted(
        rng.sample(range(len(candidates)), min(len(candidates), rng.randint(1, max_edits)))
    )
    words = [candidates[i] for i in chosen]
    misspelt = [misspell(word, rng) for _, word in reversed(words)][::-1]  # drawn right to left
    text = rewritten(row["text"], words, misspelt)
    if text == row["text"]:  # e.g. two equal letters swapped
        return None
    return dict(row, text=text, example_id=f"{row.get('example_id', '')}~typo")


def with_typos(rows: list[dict[str, Any]], share: float, seed: int) -> list[dict[str, Any]]:
    """Misspelt copies of about ``share`` of ``rows`` (the originals are not included)."""
    rng = random.Random(f"nlu-typos:{seed}")
    copies = []
    for row in rows:
        if rng.random() < share and (copy := typo_row(row, rng)) is not None:
            copies.append(copy)
    return copies
