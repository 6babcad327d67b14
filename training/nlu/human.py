"""Hand-written, human-style utterances: the NLU's ``test_human`` and ``validation_human``.

``human/test/<language>.yaml`` and ``human/validation/<language>.yaml`` hold utterances
written by hand the way callers type and speak (fragments, questions without verbs, casual
greetings, typos, mixed languages, words no template has); the two sets share no item. They
live beside the NLU code, not in ``core/phrasebook/``: the simulator, the synthetic rows and
the STT read the phrasebook, so nothing generated can draw on them, and they are versioned
with the code that reports them. Every run scores both: ``test_human`` is a test split
(metrics ``human_<metric>_<language>`` in run metadata and the registry); training picks its
best epoch partly on ``validation_human`` (:mod:`training.nlu.selection`) and reports it as
``human_validation_intent_accuracy_<language>``.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from core.errors import InputError
from core.language import LANGUAGES
from core.taxonomy import load_taxonomy

HUMAN_SPLIT = "test_human"
HUMAN_VALIDATION_SPLIT = "validation_human"
HUMAN_DIR = Path(__file__).with_name("human")
#: split -> the folder of ``human/`` holding its ``<language>.yaml`` files
HUMAN_SETS = {HUMAN_SPLIT: "test", HUMAN_VALIDATION_SPLIT: "validation"}


def _problem(path: Path, where: str, reason: str) -> InputError:
    return InputError(f"{path}: {where}: {reason}")


def _row(path: Path, language: str, index: int, item: Any, split: str) -> dict[str, Any]:
    """One validated item as a mart-like row of ``split``."""
    where = f"items[{index}]"
    if not isinstance(item, dict):
        raise _problem(path, where, "must be a mapping with text and intent")
    unknown = set(item) - {"text", "intent", "slots"}
    if unknown:
        raise _problem(path, where, f"unknown field(s) {sorted(unknown)}")
    text, intent, slots = item.get("text"), item.get("intent"), item.get("slots") or {}
    if not isinstance(text, str) or not text.strip():
        raise _problem(path, f"{where}.text", "missing or empty")
    taxonomy = load_taxonomy()
    if intent not in taxonomy.intents:
        raise _problem(path, f"{where}.intent", f"{intent!r} is not a taxonomy intent")
    if not isinstance(slots, dict):
        raise _problem(path, f"{where}.slots", "must be a mapping slot -> value")
    for slot in slots:
        if slot not in taxonomy.slots_of(intent):
            raise _problem(path, f"{where}.slots.{slot}", f"not a slot of intent {intent}")
    key = f"human|{language}|{text}|{intent}"  # the two sets share no text: ids stay apart
    return {
        "example_id": hashlib.sha256(key.encode()).hexdigest()[:16],
        "text": text,
        "language": language,
        "intent": intent,
        "slots": dict(slots),
        "split": split,
    }


def load_file(path: Path, split: str = HUMAN_SPLIT) -> list[dict[str, Any]]:
    """The rows of one ``human/<set>/<language>.yaml`` as rows of ``split`` (a clear error
    naming file, field, reason)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise InputError(f"{path}: cannot be read as YAML ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise _problem(Path(path), "items", "missing (expected a list of utterances)")
    language = data.get("language")
    if language not in LANGUAGES:
        raise _problem(Path(path), "language", f"{language!r} is not one of {LANGUAGES}")
    rows = [_row(Path(path), language, i, item, split) for i, item in enumerate(data["items"])]
    seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        if row["text"] in seen:
            where = f"items[{i}].text"
            raise _problem(Path(path), where, f"duplicate of items[{seen[row['text']]}]")
        seen[row["text"]] = i
    return rows


@lru_cache(maxsize=4)
def _cached(directory: Path, split: str) -> tuple[dict[str, Any], ...]:
    folder = directory / HUMAN_SETS[split]
    return tuple(
        row for language in LANGUAGES for row in load_file(folder / f"{language}.yaml", split)
    )


def human_rows(split: str = HUMAN_SPLIT, directory: Path = HUMAN_DIR) -> list[dict[str, Any]]:
    """Every hand-written utterance of ``split`` (``test_human`` or ``validation_human``) in
    every language, as rows of that split (copies)."""
    if split not in HUMAN_SETS:
        raise ValueError(f"no hand-written split {split!r}; expected one of {list(HUMAN_SETS)}")
    return [dict(row, slots=dict(row["slots"])) for row in _cached(Path(directory), split)]
