"""In-graph text encoding: raw text -> lowercase characters -> symbol ids with ^ and $ marks.

The model reads characters, not phonemes: espeak-ng cannot run inside a SavedModel, so
durations are measured per character (see :mod:`training.tts.durations`) and the graph only
needs ``tf.strings``. ``^`` stands for the leading silence, ``$`` for the trailing one.
"""

from __future__ import annotations

import tensorflow as tf

PAD, OOV, BOS, EOS = "", "<oov>", "^", "$"
_LETTERS = "abcdefghijklmnopqrstuvwxyz" + "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
_OTHER = " .,?!-:;'\"()%+/№«»\u2014\u20130123456789"
SYMBOLS: tuple[str, ...] = (PAD, OOV, BOS, EOS, *_OTHER, *_LETTERS)
LANGUAGES: tuple[str, ...] = ("ru", "en")


def normalize(text: str) -> str:
    """What the graph does to a text before splitting it (lowercase; same length)."""
    return text.lower()


class TextEncoder(tf.Module):
    """``texts [b]`` -> ``ids [b, T]`` (0 = padding), T <= max_chars + 2."""

    def __init__(self, max_chars: int):
        super().__init__(name="tts_text_encoder")
        self.max_chars = max_chars
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(SYMBOLS[1:]), tf.range(1, len(SYMBOLS), dtype=tf.int32)
            ),
            default_value=1,
        )
        self.language_table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(LANGUAGES), tf.range(len(LANGUAGES), dtype=tf.int32)
            ),
            default_value=0,
        )

    def __call__(self, texts: tf.Tensor) -> tf.Tensor:
        chars = tf.strings.unicode_split(tf.strings.lower(texts, encoding="utf-8"), "UTF-8")
        chars = chars[:, : self.max_chars]
        n = chars.nrows()
        bos = tf.RaggedTensor.from_tensor(tf.fill([n, 1], BOS))
        eos = tf.RaggedTensor.from_tensor(tf.fill([n, 1], EOS))
        marked = tf.concat([bos, chars, eos], axis=1)
        return tf.ragged.map_flat_values(self.table.lookup, marked).to_tensor(0)

    def languages(self, languages: tf.Tensor) -> tf.Tensor:
        """``"ru"/"en"`` -> 0/1 (unknown -> 0)."""
        return self.language_table.lookup(languages)
