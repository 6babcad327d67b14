"""Phrasings: utterances with their slot values masked, to measure NLU on unseen phrasings.

Two utterances are the same *phrasing* when they differ only in slot values ("block card
1234" and "block card 5678"), the simulator's own definition (``phrase_count``). The mart
splits by text, so a test utterance may still be a training phrasing with other values;
:func:`unseen_phrasings` keeps the test rows whose phrasing no training row has, the subset
the NLU target "intent accuracy on phrasings never seen in training" is measured on.
"""

from __future__ import annotations

from typing import Any

from training.nlu.bio import bio_tags
from training.nlu.text import normalize, tokenize

UNSEEN_SPLIT = "test_unseen_phrasing"


def phrasing(text: str, slots: dict[str, Any]) -> str:
    """``text`` lower-cased with each located slot value replaced by ``<slot>``."""
    tokens = tokenize(text)
    tags, _ = bio_tags(tokens, slots or {})
    words = []
    for token, tag in zip(tokens, tags, strict=True):
        if tag.startswith("B-"):
            words.append(f"<{tag[2:]}>")
        elif not tag.startswith("I-"):
            words.append(normalize(token))
    return " ".join(words)


def unseen_phrasings(
    train: list[dict[str, Any]], test: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The rows of ``test`` whose (language, phrasing) no row of ``train`` has."""
    seen = {(row["language"], phrasing(row["text"], row.get("slots") or {})) for row in train}
    return [
        row
        for row in test
        if (row["language"], phrasing(row["text"], row.get("slots") or {})) not in seen
    ]
