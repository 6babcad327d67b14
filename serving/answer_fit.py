"""Does the bot's answer fit what the caller asked? The simulated caller's judgement.

A caller who asked for their balance and heard opening hours was not helped, whatever the
NLU understood. :func:`answered_intent` finds the intent whose response phrasings (the
phrasebook's, placeholders left out) the answer is closest to, so the traffic simulator
counts a turn as understood only when that is the intent the caller had; a wrong NLG is
then as visible in an experiment as a wrong NLU.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

from core.language import phrasebook

_PLACEHOLDER = re.compile(r"\{[a-z_0-9]+\}")
_SPACES = re.compile(r"\s+")


def _plain(text: str) -> str:
    """Lower case, placeholders and digits out, spaces collapsed."""
    text = _PLACEHOLDER.sub(" ", text.lower())
    return _SPACES.sub(" ", re.sub(r"\d", "", text)).strip()


@lru_cache(maxsize=4)
def _responses(language: str) -> tuple[tuple[str, str], ...]:
    """(intent, plain response phrasing) of every intent in ``language``."""
    intents = phrasebook(language)["intents"]
    return tuple(
        (intent, _plain(template))
        for intent, spec in intents.items()
        for template in spec.get("responses", [])
    )


def answered_intent(response_text: str, language: str) -> str | None:
    """The intent whose response phrasings ``response_text`` is closest to (None: empty)."""
    plain = _plain(response_text)
    if not plain:
        return None
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(plain)
    best, score = None, -1.0
    for intent, phrasing in _responses(language):
        matcher.set_seq1(phrasing)
        ratio = matcher.ratio()
        if ratio > score:
            best, score = intent, ratio
    return best
