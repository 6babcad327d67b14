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
from core.pii import lexicon
from core.taxonomy import load_taxonomy
from training.nlu.bio import bio_tags, locate
from training.nlu.human import (
    HUMAN_SETS,
    HUMAN_SPLIT,
    HUMAN_VALIDATION_SPLIT,
    human_rows,
    load_file,
)
from training.nlu.synthetic import synthetic_rows
from training.nlu.text import tokenize
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


#: Slots whose words the lexicon (or, for date and period, the temporal words) can find.
FINDABLE_SLOTS = ("account_type", "currency", "city", "date", "period")
#: (text, slot) where ``bio.same_word``'s stem rule takes a word for a value it does not
#: say: "check" shares the stem of "checking", "долг" that of "доллар".
NOT_SAID = {
    ("am I broke? check my account", "account_type"),
    ("check balance пожалуйста", "account_type"),
    ("вернуть долг другу на карту", "currency"),
}


def said_slots(text: str, intent: str) -> set[str]:
    """The slots of ``intent`` in :data:`FINDABLE_SLOTS` that ``text`` says: a surface form
    of one of the slot's values (as ``bio`` locates it), or a run of temporal words."""
    taxonomy, tokens = load_taxonomy(), tokenize(text)
    values = {
        "account_type": taxonomy.slots["account_type"]["values"],
        "currency": taxonomy.slots["currency"]["values"],
        "city": list(lexicon()["cities"]),
        "date": [None],
        "period": [None],
    }
    return {
        slot
        for slot in FINDABLE_SLOTS
        if slot in taxonomy.slots_of(intent)
        and any(locate(tokens, slot, value, set()) for value in values[slot])
    }


def slot_problems(rows: list[dict]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """((text, slot) said but not labelled, (text, slot) labelled but not located)."""
    unlabelled, unlocated = [], []
    for row in rows:
        said = said_slots(row["text"], row["intent"]) - {
            slot for text, slot in NOT_SAID if text == row["text"]
        }
        unlabelled += [(row["text"], slot) for slot in sorted(said - set(row["slots"]))]
        _, missing = bio_tags(tokenize(row["text"]), row["slots"])
        unlocated += [(row["text"], slot) for slot in missing]
    return unlabelled, unlocated


@pytest.mark.parametrize("split", list(HUMAN_SETS))
def test_every_slot_the_text_says_is_labelled_and_every_label_is_located(split):
    # slot F1 is span-level: a slot the text says but the item lacks scores a right answer
    # as a false positive; a label bio_tags cannot locate is no gold span at all
    assert slot_problems(human_rows(split)) == ([], [])


def test_the_slot_check_catches_a_dropped_label_and_an_unlocated_one():
    rows = [r for r in human_rows(HUMAN_SPLIT) if r["text"] in ("euro today", "выписка за март")]
    assert len(rows) == 2 and all(r["slots"] for r in rows)
    unlabelled, unlocated = slot_problems([dict(r, slots={}) for r in rows])
    assert sorted(unlabelled) == [("euro today", "currency"), ("выписка за март", "period")]
    assert unlocated == []
    euro = next(r for r in rows if r["text"] == "euro today")
    wrong = [dict(euro, slots={"currency": "CNY"})]  # a value the text does not say
    assert slot_problems(wrong) == ([], [("euro today", "currency")])


def test_every_exemption_is_an_item_the_lexicon_misreads():
    rows = {r["text"]: r for split in HUMAN_SETS for r in human_rows(split)}
    for text, slot in NOT_SAID:
        assert slot in said_slots(text, rows[text]["intent"]) and slot not in rows[text]["slots"]


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
