"""Mart-like NLU rows from the contact-center simulator, split by core phrasing.

Every intent x language has 16+ core phrasings; each core belongs to one split, so the
validation and test rows are phrasings the model never saw in training. Recipient names are
redacted to ``<PERSON>`` as the mart does.
"""

from __future__ import annotations

import hashlib
import random
from datetime import date
from typing import Any

from core.language import LANGUAGES, Utterance, phrasebook, utterance
from core.taxonomy import load_taxonomy

PERSON = "<PERSON>"


def core_index(template: str, cores: list[str]) -> int:
    """Which core phrasing a generated template was dressed from (-1: none found)."""
    lowered = template.lower()
    best, best_len = -1, 0
    for i, core in enumerate(cores):
        body = core.rstrip("?.").lower()
        if body in lowered and len(body) > best_len:
            best, best_len = i, len(body)
    return best


def split_of_core(index: int, test_every: int = 5) -> str:
    """Cores 0, 5, 10... -> test, 1, 6, 11... -> validation, the rest -> train."""
    if index % test_every == 0:
        return "test"
    return "validation" if index % test_every == 1 else "train"


def synthetic_rows(
    per_intent_language: int, seed: int = 0, today: date = date(2026, 1, 15)
) -> list[dict[str, Any]]:
    """Rows like the ``nlu_examples`` mart's for every intent x language."""
    rng = random.Random(f"nlu-synthetic:{seed}")
    rows: list[dict[str, Any]] = []
    for intent in load_taxonomy().intents:
        for language in LANGUAGES:
            cores = phrasebook(language)["intents"][intent]["cores"]
            seen: set[str] = set()
            for _ in range(per_intent_language):
                u = utterance(intent, language, rng, today)
                row = mart_row(u, split_of_core(core_index(u.template, cores)))
                if row["text"] in seen:
                    continue
                seen.add(row["text"])
                rows.append(row)
    return rows


def mart_row(u: Utterance, split: str, kind: str = "") -> dict[str, Any]:
    """``u`` as a row of the ``nlu_examples`` mart (recipient names redacted); ``kind``
    goes into the hashed example id, so rows of other origins never share an id."""
    text, slots = u.text, dict(u.slots)
    if "recipient" in slots:
        text = text.replace(u.surface["recipient"], PERSON)
        slots["recipient"] = PERSON
    key = f"{kind}{u.language}|{text}|{u.intent}|{sorted(slots.items())}"
    return {
        "example_id": hashlib.sha256(key.encode()).hexdigest()[:16],
        "text": text,
        "language": u.language,
        "intent": u.intent,
        "slots": slots,
        "split": split,
    }
