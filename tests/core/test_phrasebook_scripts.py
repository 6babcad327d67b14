"""Every phrase the phrasebooks render is written in its language's script: the STT masks the
other language's letters (``training.stt.language``), so a Latin word in a Russian phrase (or
the reverse) could never be transcribed."""

from __future__ import annotations

import random
from datetime import date

import pytest

from core import language as nl
from core.language import INTENT_WEIGHTS
from training.stt.language import wrong_script_letters
from training.stt.text import normalize


@pytest.mark.parametrize("language", nl.LANGUAGES)
def test_rendered_phrases_use_only_their_languages_letters(language: str) -> None:
    rng = random.Random(f"scripts:{language}")
    offenders = []
    for intent in INTENT_WEIGHTS:
        for _ in range(300):
            said = nl.utterance(intent, language, rng, date(2026, 1, 15)).text
            if wrong_script_letters(normalize(said, language), language)[0]:
                offenders.append(said)
    assert not offenders, offenders[:5]
