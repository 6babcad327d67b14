# ruff: noqa: RUF001, RUF002 (Russian letters on purpose)
"""Translit copies of Russian training rows: callers type Russian words in Latin letters.

People without a Russian keyboard, or used to chats, write "blokirovka karty", "skolko deneg
na schetu" and mix such words into English ("vypiska pls"). No phrasebook phrasing is written
that way (the simulator speaks them through TTS), so :func:`with_translit` adds copies of a
share of the Cyrillic training rows with every word outside the slot values spelt in Latin
letters. Each copy picks one of the common spellings for the letters that have several
(х: h/kh, ы: y/i, я: ya/ia, ...), so no single scheme is learnt as the only one. Slot values stay
as written: their tags stay valid, and mixed rows ("perevesti 500 рублей") are realistic too.
"""

from __future__ import annotations

import random
from typing import Any

from training.nlu.typos import outside_words, rewritten

#: one Latin spelling per letter; VARIANTS lists the letters spelt several ways
LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "sch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip
VARIANTS = {
    "х": ("kh", "h"),
    "ы": ("y", "i"),
    "й": ("y", "i", "j"),
    "я": ("ya", "ia"),
    "ю": ("yu", "iu"),
    "ц": ("ts", "c"),
    "щ": ("sch", "shch"),
    "ь": ("", "'"),
}


def spelling(rng: random.Random) -> dict[str, str]:
    """A Latin spelling of every Cyrillic letter, the variants drawn with ``rng``."""
    return LATIN | {letter: rng.choice(options) for letter, options in VARIANTS.items()}


def transliterate(word: str, letters: dict[str, str]) -> str:
    """``word`` with each Cyrillic letter spelt as ``letters`` says (case kept on the first)."""
    latin = "".join(letters.get(c, c) for c in word.lower())
    return latin[:1].upper() + latin[1:] if word[:1].isupper() else latin


def translit_row(row: dict[str, Any], rng: random.Random) -> dict[str, Any] | None:
    """A copy of ``row`` with its Cyrillic words outside slot values in Latin letters (None: it
    has no such word)."""
    words = [(start, word) for start, word in outside_words(row) if _cyrillic(word)]
    if not words:
        return None
    letters = spelling(rng)
    text = rewritten(row["text"], words, [transliterate(word, letters) for _, word in words])
    return dict(row, text=text, example_id=f"{row.get('example_id', '')}~translit")


def with_translit(rows: list[dict[str, Any]], share: float, seed: int) -> list[dict[str, Any]]:
    """Translit copies of about ``share`` of the rows with Cyrillic words (originals excluded)."""
    rng = random.Random(f"nlu-translit:{seed}")
    copies = []
    for row in rows:
        if _cyrillic(row["text"]) and rng.random() < share:
            copy = translit_row(row, rng)
            if copy is not None:
                copies.append(copy)
    return copies


def _cyrillic(text: str) -> bool:
    return any(c in LATIN for c in text.lower())
