# ruff: noqa: RUF001, RUF002 (Russian text uses Cyrillic letters on purpose)
"""The hand-written ``test_human`` and ``validation_human`` utterances: coverage, kept out of
the phrasebook and apart from each other, file validation."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import date
from functools import lru_cache
from pathlib import Path

import pytest

from core.errors import InputError
from core.language import LANGUAGES, phrasebook, typed_intents, utterance
from core.taxonomy import load_taxonomy
from training.nlu.human import (
    HUMAN_SETS,
    HUMAN_SPLIT,
    HUMAN_VALIDATION_SPLIT,
    human_rows,
    load_file,
)
from training.nlu.synthetic import synthetic_rows
from training.nlu.typed import typed_rows

SAMPLES_PER_LANGUAGE = 20_000


def normalized(text: str) -> str:
    """Lower case, ё -> е, punctuation dropped, spaces collapsed (``<PERSON>`` kept)."""
    text = text.lower().replace("ё", "е")
    return " ".join(re.sub(r"[^\w<>]+", " ", text).split())


@lru_cache(maxsize=4)
def rendered(language: str, samples: int, seed: int = 0) -> frozenset[str]:
    """Normalized texts of ``samples`` phrasebook utterances, every intent in turn, and of
    ``samples // 4`` chat rows of the typed phrasings."""
    rng, intents = random.Random(f"human-overlap:{seed}"), list(load_taxonomy().intents)
    said = {
        normalized(utterance(intents[i % len(intents)], language, rng, date(2026, 1, 15)).text)
        for i in range(samples)
    }
    typed = len(typed_intents(language))
    chat = typed_rows(samples // 4 // typed, [language], seed)
    return frozenset(said | {normalized(row["text"]) for row in chat})


@pytest.mark.parametrize(("split", "at_least"), [(HUMAN_SPLIT, 120), (HUMAN_VALIDATION_SPLIT, 100)])
def test_every_language_has_enough_items_covering_every_intent(split, at_least):
    rows = human_rows(split)
    for language in LANGUAGES:
        counts = Counter(r["intent"] for r in rows if r["language"] == language)
        assert sum(counts.values()) >= at_least, language
        assert set(counts) == set(load_taxonomy().intents), language
        assert min(counts.values()) >= 6, (language, counts)
    assert {r["split"] for r in rows} == {split}
    assert len({r["example_id"] for r in rows}) == len(rows)


def shared_texts(rows: list[dict], others: list[dict]) -> list[str]:
    """The texts of ``rows`` equal, normalized, to a text of ``others``."""
    taken = {normalized(r["text"]) for r in others}
    return [r["text"] for r in rows if normalized(r["text"]) in taken]


def test_no_validation_item_is_a_test_item():
    validation, test = human_rows(HUMAN_VALIDATION_SPLIT), human_rows(HUMAN_SPLIT)
    assert shared_texts(validation, test) == []
    assert not {r["example_id"] for r in validation} & {r["example_id"] for r in test}


def test_the_shared_item_check_catches_a_test_item_written_otherwise():
    test = human_rows(HUMAN_SPLIT)
    planted = dict(test[0], text=test[0]["text"].upper() + " ?!")
    assert shared_texts([*human_rows(HUMAN_VALIDATION_SPLIT), planted], test) == [planted["text"]]


def test_an_unknown_split_is_refused():
    with pytest.raises(ValueError, match="validation_human"):
        human_rows("train")


@pytest.mark.parametrize("split", list(HUMAN_SETS))
@pytest.mark.parametrize("language", LANGUAGES)
def test_no_item_is_something_the_phrasebook_renders(language, split):
    texts = rendered(language, SAMPLES_PER_LANGUAGE) | {
        normalized(r["text"]) for r in synthetic_rows(40, seed=5)
    }
    cores = {
        normalized(core)
        for spec in phrasebook(language)["intents"].values()
        for core in [*spec["cores"], *spec.get("typed", [])]
    }
    items = [r for r in human_rows(split) if r["language"] == language]
    assert len(texts) > 5_000  # the sample is broad, not a handful of repeats
    rendered_items = [r["text"] for r in items if normalized(r["text"]) in texts]
    core_items = [r["text"] for r in items if normalized(r["text"]) in cores]
    assert rendered_items == [] and core_items == []


@pytest.mark.parametrize("kind", ["cores", "typed"])
def test_the_overlap_check_catches_a_phrasebook_phrasing(kind):
    core = phrasebook("en")["intents"]["help"][kind][0]
    assert normalized(core.upper() + "!!") in rendered("en", SAMPLES_PER_LANGUAGE)


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "en.yaml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("language: en\nitems:\n  - {text: hi, intent: greting}\n", "items[0].intent"),
        ("language: en\nitems:\n  - {intent: greeting}\n", "items[0].text"),
        ("language: de\nitems: []\n", "language"),
        ("language: en\n", "items"),
        (
            "language: en\nitems:\n  - {text: 'hi', intent: greeting, slots: {city: Ufa}}\n",
            "items[0].slots.city",
        ),
        (
            "language: en\nitems:\n  - {text: hi, intent: greeting}\n"
            "  - {text: hi, intent: goodbye}\n",
            "items[1].text",
        ),
        ("language: en\nitems:\n  - {text: hi, intent: greeting, lang: en}\n", "items[0]"),
    ],
)
def test_a_bad_item_is_refused_naming_file_and_field(tmp_path, body, message):
    path = _write(tmp_path, body)
    with pytest.raises(InputError) as error:
        load_file(path)
    assert str(path) in str(error.value) and message in str(error.value)
