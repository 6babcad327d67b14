"""NLG data: mart rows -> delexicalized token ids -> ``tf.data``; generated rows for tests."""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from core.taxonomy import load_taxonomy
from training.nlg.delex import REDACTED, delexicalize
from warehouse.schemas import PUBLISHED

MART = "nlg_examples"
PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)
SPACE = "\u2581"  # marks a token preceded by a space: detokenization is exact
_TOKEN_RE = re.compile(r"(\s*)(<[A-Za-z_0-9]+>|\w+|[^\w\s])")


# --------------------------------------------------------------------------- tokens


def tokenize(text: str) -> list[str]:
    """Word / punctuation / placeholder tokens; a leading ``▁`` keeps the space before it."""
    return [(SPACE if space else "") + token for space, token in _TOKEN_RE.findall(text)]


def detokenize(tokens: list[str]) -> str:
    """Inverse of :func:`tokenize` (for text without leading or repeated whitespace)."""
    return "".join(tokens).replace(SPACE, " ")


@dataclass(frozen=True)
class Vocab:
    """Token <-> id; ids 0-3 are the specials (0 = padding)."""

    tokens: tuple[str, ...]

    @classmethod
    def build(cls, templates: list[str], min_count: int = 1) -> Vocab:
        counts = Counter(t for text in templates for t in tokenize(text))
        words = sorted(
            (t for t, n in counts.items() if n >= min_count), key=lambda t: (-counts[t], t)
        )
        return cls(SPECIALS + tuple(w for w in words if w not in SPECIALS))

    def __len__(self) -> int:
        return len(self.tokens)

    def ids(self, text: str) -> list[int]:
        index = {t: i for i, t in enumerate(self.tokens)}
        return [index.get(t, 1) for t in tokenize(text)]


# --------------------------------------------------------------------------- features


def condition_vocab() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(languages, intents, slot names) of the taxonomy: the model's condition inputs."""
    taxonomy = load_taxonomy()
    return taxonomy.languages, tuple(taxonomy.intents), tuple(taxonomy.slots)


def slot_presence(slots: dict[str, Any]) -> list[float]:
    """Multi-hot of the slots present (non-null), in taxonomy order."""
    return [float(slots.get(name) is not None) for name in condition_vocab()[2]]


@dataclass(frozen=True)
class Example:
    """One row, delexicalized."""

    language: str
    intent: str
    slots: dict[str, Any]
    response: str
    template: str
    facts: dict[str, str]
    located: tuple[str, ...]
    unlocated: tuple[str, ...]
    split: str


def prepare(rows: list[dict[str, Any]]) -> list[Example]:
    """Delexicalize mart rows (``slots`` as dict or JSON text)."""
    out = []
    for row in rows:
        slots = row.get("slots") or {}
        if isinstance(slots, str):
            slots = json.loads(slots)
        d = delexicalize(row["response"], row["language"], slots)
        out.append(
            Example(
                row["language"],
                row["intent"],
                slots,
                row["response"],
                d.template,
                d.facts,
                d.located,
                d.unlocated,
                row.get("split", "train"),
            )
        )
    return out


def delex_stats(examples: list[Example]) -> dict[str, float]:
    """How often slot values were found in the text (the rest stay as literal text).

    A slot may be absent from a response on purpose (the answer does not need it), so
    ``slot_located_rate`` is a lower bound of the delexicalizer's recall; ``digit_leftover``
    counts templates that still contain a digit (a number nobody placed).
    """
    given = sum(len(e.located) + len(e.unlocated) for e in examples)
    located = sum(len(e.located) for e in examples)
    leftover = sum(bool(re.search(r"\d", re.sub(r"<[^>]+>", "", e.template))) for e in examples)
    n = max(len(examples), 1)
    return {
        "examples": float(len(examples)),
        "slot_values": float(given),
        "slot_located_rate": located / given if given else 1.0,
        "fully_located_rate": sum(not e.unlocated for e in examples) / n,
        "digit_leftover_rate": leftover / n,
    }


def encode(examples: list[Example], vocab: Vocab, max_len: int) -> dict[str, np.ndarray]:
    """Model inputs and targets: condition ids, slot multi-hot, decoder in/out (0-padded)."""
    languages, intents, _ = condition_vocab()
    lang_id = {v: i + 1 for i, v in enumerate(languages)}
    intent_id = {v: i + 1 for i, v in enumerate(intents)}
    n = len(examples)
    dec_in = np.zeros((n, max_len), np.int32)
    target = np.zeros((n, max_len), np.int32)
    for row, e in enumerate(examples):
        ids = vocab.ids(e.template)[: max_len - 1]
        dec_in[row, : len(ids) + 1] = [2, *ids]  # <bos> + tokens
        target[row, : len(ids) + 1] = [*ids, 3]  # tokens + <eos>
    return {
        "language": np.array([lang_id.get(e.language, 0) for e in examples], np.int32),
        "intent": np.array([intent_id.get(e.intent, 0) for e in examples], np.int32),
        "slots": np.array([slot_presence(e.slots) for e in examples], np.float32),
        "decoder_in": dec_in,
        "target": target,
    }


def dataset(arrays: dict[str, np.ndarray], batch_size: int, shuffle: bool, seed: int):
    """``tf.data`` of ((inputs), target) batches."""
    import tensorflow as tf

    inputs = {k: v for k, v in arrays.items() if k != "target"}
    ds = tf.data.Dataset.from_tensor_slices((inputs, arrays["target"]))
    if shuffle:
        ds = ds.shuffle(len(arrays["target"]), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(2)


# --------------------------------------------------------------------------- sources


def load_rows(
    settings: Any, commit: str | None = None, *, schema: str = PUBLISHED
) -> list[dict[str, Any]]:
    """Rows of the ``nlg_examples`` mart, pinned to the lake ``commit`` when given."""
    from training.common.data import read_mart

    splits = ("train", "validation", "test")
    return read_mart(settings, MART, commit=commit, splits=splits, schema=schema)


def _split(text: str) -> str:
    bucket = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % 10
    return "train" if bucket < 8 else ("validation" if bucket == 8 else "test")


def _redact(response: str, slots: dict[str, Any], language: str) -> tuple[str, dict[str, Any]]:
    """What the mart does to a recipient: the name becomes ``<PERSON>`` in slots and text."""
    from core import pii

    name = slots.get("recipient")
    if not name:
        return response, slots
    forms = [pii.decline_ru(name, c) for c in (2, 1, 0)] if language == "ru" else [name]
    for form in sorted(set(forms), key=len, reverse=True):
        response = response.replace(form, REDACTED)
    return response, slots | {"recipient": REDACTED}


def synthetic_rows(
    n: int,
    seed: int = 0,
    intents: tuple[str, ...] | None = None,
    languages: tuple[str, ...] = ("ru", "en"),
    redact: bool = True,
) -> list[dict[str, Any]]:
    """Up to ``n`` distinct mart-like rows from the call simulator's language model."""
    from core import language as nl

    rng = random.Random(f"nlg-rows:{seed}")
    intents = intents or tuple(load_taxonomy().intents)
    today = date(2026, 1, 15)
    seen: set[str] = set()
    rows = []
    for _ in range(n):
        intent, lang = rng.choice(intents), rng.choice(languages)
        slots = dict(nl.utterance(intent, lang, rng, today).slots)
        response = nl.bot_response(intent, lang, slots, rng, today)
        if redact:
            response, slots = _redact(response, slots, lang)
        key = f"{lang}|{intent}|{json.dumps(slots, sort_keys=True)}|{response}"
        if key in seen:
            continue
        seen.add(key)
        example_id = hashlib.sha256(key.encode()).hexdigest()[:16]
        rows.append(
            {
                "example_id": example_id,
                "language": lang,
                "intent": intent,
                "slots": slots,
                "response": response,
                "split": _split(response),
            }
        )
    return rows
