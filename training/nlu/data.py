"""Rows of the ``nlu_examples`` mart -> labelled arrays -> ``tf.data`` datasets."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from core.settings import Settings
from core.taxonomy import load_taxonomy
from training.common.data import read_mart
from training.nlu.bio import bio_tags, tag_names
from training.nlu.human import HUMAN_SPLIT, HUMAN_VALIDATION_SPLIT, human_rows
from training.nlu.phrasing import UNSEEN_SPLIT, unseen_phrasings
from training.nlu.text import Encoder, tokenize
from warehouse.schemas import PUBLISHED

log = logging.getLogger(__name__)

MART = "nlu_examples"
IGNORE = -1  # slot label of padding positions (the loss ignores them)


def intent_names() -> list[str]:
    """The intent head's classes: taxonomy intents in the taxonomy's order."""
    return list(load_taxonomy().intents)


def load_rows(
    settings: Settings, commit: str | None = None, *, schema: str = PUBLISHED
) -> list[dict[str, Any]]:
    """The mart's rows (example_id, text, language, intent, slots, split) at ``commit``."""
    return read_mart(settings, MART, commit=commit, schema=schema)


@dataclass
class Labelled:
    """Texts with intent ids and slot-tag ids (padded with IGNORE to ``max_tokens``)."""

    texts: list[str]
    languages: list[str]
    intents: np.ndarray  # [n] int32
    tags: np.ndarray  # [n, max_tokens] int32
    unlocated: Counter[str]  # slot name -> values not found in their text


def label(rows: list[dict[str, Any]], max_tokens: int) -> Labelled:
    """Intent ids and BIO tag ids of ``rows`` (slots located in the tokenized text)."""
    intent_id = {name: i for i, name in enumerate(intent_names())}
    tag_id = {name: i for i, name in enumerate(tag_names())}
    tags = np.full((len(rows), max_tokens), IGNORE, np.int32)
    unlocated: Counter[str] = Counter()
    for i, row in enumerate(rows):
        tokens = tokenize(row["text"])[:max_tokens]
        row_tags, missing = bio_tags(tokens, row.get("slots") or {})
        tags[i, : len(tokens)] = [tag_id[t] for t in row_tags]
        unlocated.update(missing)
    if unlocated:
        log.info("slot values not found in their text: %s", dict(unlocated))
    return Labelled(
        texts=[row["text"] for row in rows],
        languages=[row["language"] for row in rows],
        intents=np.array([intent_id[row["intent"]] for row in rows], np.int32),
        tags=tags,
        unlocated=unlocated,
    )


def split_rows(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows grouped by their ``split`` column."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["split"], []).append(row)
    return groups


def scored_splits(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows by split with the sets every run adds: the ``test`` rows whose phrasing no
    ``train`` row has (``test_unseen_phrasing``) and the hand-written ``test_human`` and
    ``validation_human``."""
    splits = split_rows(rows)
    unseen = unseen_phrasings(splits.get("train", []), splits.get("test", []))
    if unseen:  # the NLU unseen-phrasing targets are measured on these
        splits[UNSEEN_SPLIT] = unseen
    for split in (HUMAN_SPLIT, HUMAN_VALIDATION_SPLIT):  # never in the mart or the phrasebook
        splits[split] = human_rows(split)
    return splits


def dataset(
    data: Labelled,
    encoder: Encoder,
    batch_size: int,
    *,
    shuffle_seed: int | None = None,
    word_dropout: float = 0.0,
) -> tf.data.Dataset:
    """Batches of ``(encoder inputs, {"intent", "slots"})``; encoding runs in TF ops.

    ``word_dropout`` (training only) replaces that share of known words by the OOV id.
    """
    ds = tf.data.Dataset.from_tensor_slices((data.texts, data.intents, data.tags))
    if shuffle_seed is not None:
        ds = ds.shuffle(len(data.texts), seed=shuffle_seed, reshuffle_each_iteration=True)

    def encode(texts: tf.Tensor, intents: tf.Tensor, tags: tf.Tensor):
        _, inputs = encoder(texts)
        if word_dropout > 0:  # teach the model to lean on characters for unknown words
            words = inputs["words"]
            drop = tf.random.uniform(tf.shape(words), seed=shuffle_seed) < word_dropout
            inputs["words"] = tf.where(drop & (words > 1), tf.ones_like(words), words)
        return inputs, {"intent": intents, "slots": tags}

    return ds.batch(batch_size).map(encode).prefetch(tf.data.AUTOTUNE)
