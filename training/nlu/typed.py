"""Chat rows for NLU training: the phrasebooks' ``typed`` phrasings, written as people type.

The call simulator speaks only the phrasebooks' ``cores``, so the mart holds call phrasings.
People who write to the bank's chat use other words: fragments, slang, world-knowledge stories
("my purse was stolen."), translit ("skolko deneg na schetu?"). Every phrasebook intent may
list such phrasings under ``typed``; :func:`typed_rows` renders each intent's typed phrasings
with slot values (:func:`core.language.typed_utterance`) into mart-like ``train`` rows. They
come from the project's files, not from the lake: a version's lineage names them by its code
revision (``registry.lineage.code_revision``); the run reports how many it added
(``typed_train_rows``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date
from typing import Any

from core.language import typed_intents, typed_utterance
from training.nlu.synthetic import mart_row

KIND = "typed|"


def typed_rows(
    per_intent_language: int,
    languages: Iterable[str],
    seed: int,
    today: date = date(2026, 1, 15),
) -> list[dict[str, Any]]:
    """``per_intent_language`` ``train`` rows per intent with typed phrasings, in each of
    ``languages`` (a phrasing without slots repeats: the count weighs chat beside the mart)."""
    rng = random.Random(f"nlu-typed:{seed}")
    rows: list[dict[str, Any]] = []
    for language in sorted(set(languages)):
        for intent in typed_intents(language):
            rows.extend(
                mart_row(typed_utterance(intent, language, rng, today), "train", KIND)
                for _ in range(per_intent_language)
            )
    return rows
