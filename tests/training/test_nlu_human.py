# ruff: noqa: RUF001, RUF002 (Russian text uses Cyrillic letters on purpose)
"""The hand-written ``test_human`` utterances: coverage, kept out of the phrasebook, validation."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from core.errors import InputError
from core.language import LANGUAGES, phrasebook, utterance
from core.taxonomy import load_taxonomy
from training.nlu.human import HUMAN_SPLIT, human_rows, load_file
from training.nlu.synthetic import synthetic_rows

SAMPLES_PER_LANGUAGE = 20_000


def normalized(text: str) -> str:
    """Lower case, ё -> е, punctuation dropped, spaces collapsed (``<PERSON>`` kept)."""
    text = text.lower().replace("ё", "е")
    return " ".join(re.sub(r"[^\w<>]+", " ", text).split())


def rendered(language: str, samples: int, seed: int = 0) -> set[str]:
    """Normalized texts of ``samples`` phrasebook utterances, every intent in turn."""
    rng, intents = random.Random(f"human-overlap:{seed}"), list(load_taxonomy().intents)
    return {
        normalized(utterance(intents[i % len(intents)], language, rng, date(2026, 1, 15)).text)
        for i in range(samples)
    }


def test_every_language_has_120_items_covering_every_intent():
    rows = human_rows()
    for language in LANGUAGES:
        counts = Counter(r["intent"] for r in rows if r["language"] == language)
        assert sum(counts.values()) >= 120, language
        assert set(counts) == set(load_taxonomy().intents), language
        assert min(counts.values()) >= 6, (language, counts)
    assert {r["split"] for r in rows} == {HUMAN_SPLIT}
    assert len({r["example_id"] for r in rows}) == len(rows)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_item_is_something_the_phrasebook_renders(language):
    texts = rendered(language, SAMPLES_PER_LANGUAGE)
    texts |= {normalized(r["text"]) for r in synthetic_rows(40, seed=5)}
    cores = {
        normalized(core)
        for spec in phrasebook(language)["intents"].values()
        for core in spec["cores"]
    }
    items = [r for r in human_rows() if r["language"] == language]
    assert len(texts) > 5_000  # the sample is broad, not a handful of repeats
    rendered_items = [r["text"] for r in items if normalized(r["text"]) in texts]
    core_items = [r["text"] for r in items if normalized(r["text"]) in cores]
    assert rendered_items == [] and core_items == []


def test_the_overlap_check_catches_a_phrasebook_core():
    core = phrasebook("en")["intents"]["help"]["cores"][0]
    assert normalized(core.upper() + "!!") in rendered("en", 2_000)


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
