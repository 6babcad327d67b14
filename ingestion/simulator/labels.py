"""Label noise the audit cannot see: a labelling batch whose intent column slipped.

Every mislabelled call keeps its utterance but carries the next intent of the taxonomy (in
name order; ``out_of_scope`` stays itself) and only the slots that intent has, so every
record is still valid and passes every data test: only a model trained on it, and the
callers it serves, can tell. ``voiceops demo loop --worse`` plants it to show the loop
refusing such a model.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from core.taxonomy import load_taxonomy

KEPT = "out_of_scope"


def shifted_intents(intents: Iterable[str]) -> dict[str, str]:
    """Each intent -> the next one in name order (cyclic), ``out_of_scope`` left out."""
    names = sorted(set(intents) - {KEPT})
    return {name: names[(i + 1) % len(names)] for i, name in enumerate(names)}


def mislabel(records: list[dict[str, Any]], rate: float, seed: str) -> int:
    """Shift the intent of about ``rate`` of ``records`` in place; how many were shifted."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"mislabel rate must be between 0 and 1, got {rate}")
    if rate == 0:
        return 0
    taxonomy = load_taxonomy()
    shift = shifted_intents(taxonomy.intents)
    rng = random.Random(f"{seed}:mislabel")
    shifted = 0
    for record in records:
        if record.get("intent") in shift and rng.random() < rate:
            record["intent"] = new = shift[record["intent"]]
            allowed = set(taxonomy.slots_of(new))
            record["slots"] = {k: v for k, v in record.get("slots", {}).items() if k in allowed}
            shifted += 1
    return shifted
