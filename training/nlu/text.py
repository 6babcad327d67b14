# ruff: noqa: RUF001, RUF002 (Russian letters on purpose)
"""Tokenization shared by labelling (Python) and the model (TensorFlow ops).

Both sides do the same: join digit groups ("5 000", "1,500,000" -> "5000", "1500000"),
split off every character that is not a letter, digit, ``_``, ``<`` or ``>`` (so redaction
placeholders such as ``<PERSON>`` stay one token), split on whitespace. Case is kept in
tokens (slot values are returned as written); lookups lower-case words and map ё -> е.

The model reads three views of each token (:class:`Encoder`): its word id, its character
ids and the hashed ids of its character n-grams (fastText's subwords: "<ba", "bal", ...,
"nce>" of "balance"), which a misspelt or unseen word mostly shares with known ones.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

import tensorflow as tf

if TYPE_CHECKING:
    from training.nlu.config import NLUConfig

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


def tf_char_ngrams(
    tokens: tf.RaggedTensor, widths: tuple[int, ...], buckets: int
) -> tf.RaggedTensor:
    """[b, (t)] normalized tokens -> [b, (t), (n-grams)] hashed ids in 1..buckets.

    Each token is framed by ``<`` and ``>``, so prefixes and suffixes hash apart from the
    same letters inside a word; n-grams of the first width come first (they survive a cut to
    a fixed count).
    """
    chars = tf.strings.unicode_split(tokens, "UTF-8")
    grams = tf.concat(
        [
            tf.strings.ngrams(chars, n, separator="", pad_values=("<", ">"), padding_width=1)
            for n in widths
        ],
        axis=-1,
    )
    return tf.ragged.map_flat_values(tf.strings.to_hash_bucket_fast, grams, buckets) + 1


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
    """Raw texts -> (tokens, model inputs), padded to fixed sizes; saved with the model.

    The inputs are ``words`` [b, T], ``chars`` [b, T, C] and, when ``ngram_buckets`` > 0,
    ``ngrams`` [b, T, G] (hashed character n-grams of ``ngram_widths``, G = ``max_ngrams``).
    """

    def __init__(
        self,
        words: list[str],
        chars: list[str],
        max_tokens: int,
        max_chars: int,
        *,
        ngram_buckets: int = 0,
        ngram_widths: tuple[int, ...] = (3,),
        max_ngrams: int = 16,
    ):
        super().__init__(name="nlu_encoder")
        self.words, self.chars = list(words), list(chars)
        self.max_tokens, self.max_chars = max_tokens, max_chars
        self.ngram_buckets, self.ngram_widths = ngram_buckets, tuple(ngram_widths)
        self.max_ngrams = max_ngrams
        self.word_table = self._table(words)
        self.char_table = self._table(chars)

    @classmethod
    def from_config(cls, words: list[str], chars: list[str], config: NLUConfig) -> Encoder:
        """The encoder of ``words`` and ``chars`` with the sizes and n-grams of ``config``."""
        return cls(
            words,
            chars,
            config.max_tokens,
            config.max_chars,
            ngram_buckets=config.ngram_buckets,
            ngram_widths=config.ngram_widths,
            max_ngrams=config.max_ngrams,
        )

    @staticmethod
    def _table(vocabulary: list[str]) -> tf.lookup.StaticHashTable:
        keys = tf.constant(vocabulary[2:], tf.string)
        ids = tf.range(2, len(vocabulary), dtype=tf.int64)
        return tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(keys, ids), 1)

    def __call__(self, texts: tf.Tensor) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
        """[batch] strings -> tokens [b, T] (PAD ""), {input name: padded ids}."""
        tokens = tf_tokenize(texts)[:, : self.max_tokens]
        shape = [None, self.max_tokens]
        padded = tokens.to_tensor(default_value=PAD, shape=shape)
        normalized = tf_normalize(tokens)
        word_ids = tf.ragged.map_flat_values(self.word_table.lookup, normalized)
        chars = tf.strings.unicode_split(normalized, "UTF-8")[:, :, : self.max_chars]
        char_ids = tf.ragged.map_flat_values(self.char_table.lookup, chars)
        inputs = {
            "words": word_ids.to_tensor(0, shape=shape),
            "chars": char_ids.to_tensor(0, shape=[*shape, self.max_chars]),
        }
        if self.ngram_buckets:
            inputs["ngrams"] = tf_char_ngrams(
                normalized, self.ngram_widths, self.ngram_buckets
            ).to_tensor(0, shape=[*shape, self.max_ngrams])
        return padded, inputs
