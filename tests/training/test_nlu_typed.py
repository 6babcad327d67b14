"""Chat rows from the phrasebooks' ``typed`` phrasings: rendered, labelled, kept apart from the
call phrasings the simulator speaks, and added to NLU training only."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import pytest

from core import language as nl
from training.nlu.synthetic import PERSON, synthetic_rows
from training.nlu.typed import typed_rows

TODAY = date(2026, 1, 15)


@pytest.mark.parametrize("language", nl.LANGUAGES)
def test_typed_phrasings_are_not_call_cores_and_use_allowed_slots(language):
    from core.taxonomy import load_taxonomy

    for intent, spec in nl.phrasebook(language)["intents"].items():
        typed = spec.get("typed", [])
        assert not set(typed) & set(spec["cores"]), (language, intent)
        allowed = set(load_taxonomy().slots_of(intent))
        for phrasing in typed:
            assert {nl.PLACEHOLDER_SLOT[p] for p in nl.placeholders(phrasing)} <= allowed


@pytest.mark.parametrize("language", nl.LANGUAGES)
def test_the_call_simulator_never_says_a_typed_phrasing(language):
    typed = {
        phrasing.rstrip("?.").lower()
        for spec in nl.phrasebook(language)["intents"].values()
        for phrasing in spec.get("typed", [])
    }
    rng, intents = random.Random(7), nl.typed_intents(language)
    said = {
        nl.utterance(intents[i % len(intents)], language, rng, TODAY).template.rstrip("?.").lower()
        for i in range(3_000)
    }
    assert typed and not {t for t in typed if any(s == t for s in said)}


def test_a_typed_utterance_fills_its_slots_as_written():
    rng = random.Random(3)
    seen = [nl.typed_utterance("transfer_money", "en", rng, TODAY) for _ in range(60)]
    with_money = [u for u in seen if "amount" in u.slots]
    assert with_money, "transfer_money has typed phrasings with {money}"
    for u in with_money:
        assert u.surface["amount"] in u.text and "{" not in u.text
        assert u.template in nl.phrasebook("en")["intents"]["transfer_money"]["typed"]


def test_every_intent_has_typed_phrasings_in_both_languages():
    for language in nl.LANGUAGES:
        assert set(nl.typed_intents(language)) == set(nl.phrasebook(language)["intents"])


def test_an_intent_without_typed_phrasings_is_refused_by_name(monkeypatch):
    book = nl.phrasebook("ru")
    intents = {**book["intents"], "change_pin": {**book["intents"]["change_pin"], "typed": []}}
    monkeypatch.setattr(nl, "phrasebook", lambda language: {**book, "intents": intents})
    assert "change_pin" not in nl.typed_intents("ru")
    with pytest.raises(ValueError, match="change_pin"):
        nl.typed_utterance("change_pin", "ru", random.Random(0), TODAY)


def test_typed_rows_are_mart_like_train_rows_per_intent_and_language():
    rows = typed_rows(5, ["en", "ru"], seed=1)
    counts = Counter((r["language"], r["intent"]) for r in rows)
    assert set(counts.values()) == {5}
    assert {language for language, _ in counts} == {"en", "ru"}
    assert {intent for language, intent in counts if language == "ru"} == set(
        nl.typed_intents("ru")
    )
    assert {r["split"] for r in rows} == {"train"}
    assert all(
        set(r) == {"example_id", "text", "language", "intent", "slots", "split"} for r in rows
    )
    recipients = [r for r in rows if "recipient" in r["slots"]]
    assert recipients and all(
        r["slots"]["recipient"] == PERSON and PERSON in r["text"] for r in recipients
    )


def test_typed_rows_follow_the_languages_and_seed_and_never_share_ids_with_call_rows():
    assert {r["language"] for r in typed_rows(3, ["en"], seed=2)} == {"en"}
    assert typed_rows(3, ["ru", "en"], seed=2) == typed_rows(3, ["en", "ru"], seed=2)
    assert typed_rows(3, ["en"], seed=2) != typed_rows(3, ["en"], seed=3)
    calls = {r["example_id"] for r in synthetic_rows(20, seed=0)}
    assert not calls & {r["example_id"] for r in typed_rows(10, ["en", "ru"], seed=0)}
    assert typed_rows(0, ["en", "ru"], seed=0) == []
