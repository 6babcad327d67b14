# ruff: noqa: RUF001, RUF002 (Russian letters on purpose)
"""Tokenization shared by labelling (Python) and the model (TensorFlow ops).

Both sides do the same: join digit groups ("5 000", "1,500,000" -> "5000", "1500000"),
split off every character that is not a letter, digit, ``_``, ``<`` or ``>`` (so redaction
placeholders such as ``<PERSON>`` stay one token), split on whitespace. Case is kept in
tokens (slot values are returned as written); lookups lower-case words and map ё -> е.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import tensorflow as tf

PAD, OOV = "", "[UNK]"  # ids 0 and 1 of both vocabularies

_DIGIT_GROUP = r"(\d)[, ](\d\d\d)"
_PY_PUNCT = re.compile(r"([^\w<>\s])")
_TF_PUNCT = r"([^\pL\pN_<>\s])"


def tokenize(text: str) -> list[str]:
    """Python tokenization, identical to :func:`tf_tokenize`."""
    for _ in range(2):  # "1,500,000": a match consumes the digit the next group needs
        text = re.sub(_DIGIT_GROUP, r"\1\2", text)
    return _PY_PUNCT.sub(r" \1 ", text).split()


def normalize(token: str) -> str:
    """The word-lookup key of a token."""
    return token.lower().replace("ё", "е")


def tf_tokenize(texts: tf.Tensor) -> tf.RaggedTensor:
    """[batch] strings -> [batch, (tokens)] ragged strings."""
    for _ in range(2):
        texts = tf.strings.regex_replace(texts, _DIGIT_GROUP, r"\1\2")
    return tf.strings.split(tf.strings.regex_replace(texts, _TF_PUNCT, r" \1 "))


def tf_normalize(tokens: tf.Tensor) -> tf.Tensor:
    return tf.strings.regex_replace(tf.strings.lower(tokens, encoding="utf-8"), "ё", "е")


def build_vocabularies(
    texts: Iterable[str], min_word_count: int = 1
) -> tuple[list[str], list[str]]:
    """(words, chars) of the training texts, each starting with PAD and OOV, sorted."""
    words: Counter[str] = Counter()
    chars: set[str] = set()
    for text in texts:
        for token in tokenize(text):
            words[normalize(token)] += 1
            chars.update(normalize(token))
    kept = sorted(w for w, n in words.items() if n >= min_word_count)
    return [PAD, OOV, *kept], [PAD, OOV, *sorted(chars)]


class Encoder(tf.Module):
    """Raw texts -> (tokens, word ids, char ids), padded to fixed sizes; saved with the model."""

    def __init__(self, words: list[str], chars: list[str], max_tokens: int, max_chars: int):
        super().__init__(name="nlu_encoder")
        self.words, self.chars = list(words), list(chars)
        self.max_tokens, self.max_chars = max_tokens, max_chars
        self.word_table = self._table(words)
        self.char_table = self._table(chars)

    @staticmethod
    def _table(vocabulary: list[str]) -> tf.lookup.StaticHashTable:
        keys = tf.constant(vocabulary[2:], tf.string)
        ids = tf.range(2, len(vocabulary), dtype=tf.int64)
        return tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(keys, ids), 1)

    def __call__(self, texts: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """[batch] strings -> tokens [b, T] (PAD ""), word ids [b, T], char ids [b, T, C]."""
        tokens = tf_tokenize(texts)[:, : self.max_tokens]
        shape = [None, self.max_tokens]
        padded = tokens.to_tensor(default_value=PAD, shape=shape)
        word_ids = tf.ragged.map_flat_values(self.word_table.lookup, tf_normalize(tokens))
        chars = tf.strings.unicode_split(tf_normalize(tokens), "UTF-8")[:, :, : self.max_chars]
        char_ids = tf.ragged.map_flat_values(self.char_table.lookup, chars)
        return (
            padded,
            word_ids.to_tensor(0, shape=shape),
            char_ids.to_tensor(0, shape=[*shape, self.max_chars]),
        )
