"""The simulated caller's judgement of an answer: the bot's own phrasings are recognised as
answers to their intent, in both languages, and an answer to another intent is not."""

from __future__ import annotations

import random
from datetime import date

import pytest

from core.language import bot_response, phrasebook, utterance
from serving.answer_fit import answered_intent

TODAY = date(2026, 12, 6)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_intents_responses_are_recognised(language: str) -> None:
    rng = random.Random(3)
    intents = list(phrasebook(language)["intents"])
    recognised = total = 0
    for intent in intents:
        for _ in range(15):
            said = utterance(intent, language, rng, TODAY)
            text = bot_response(intent, language, said.slots, rng, TODAY)
            recognised += answered_intent(text, language) == intent
            total += 1
    assert recognised / total >= 0.98, f"{recognised}/{total}"


def test_an_answer_to_another_intent_does_not_fit() -> None:
    rng = random.Random(5)
    said = utterance("exchange_rate", "en", rng, TODAY)
    hours = bot_response("branch_hours", "en", said.slots, rng, TODAY)
    assert answered_intent(hours, "en") == "branch_hours" != "exchange_rate"
    assert answered_intent("   ", "en") is None
