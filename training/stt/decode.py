"""Greedy CTC decoding in TensorFlow ops: best id per step, repeats merged, blanks dropped."""

from __future__ import annotations

import tensorflow as tf

from training.stt.text import ALPHABET


def greedy_decode(logits: tf.Tensor, steps: tf.Tensor) -> tf.Tensor:
    """[b, T, V+1] logits and [b] valid steps -> [b] UTF-8 strings (spaces squeezed)."""
    best = tf.argmax(logits, axis=-1, output_type=tf.int32)
    previous = tf.pad(best[:, :-1], [[0, 0], [1, 0]], constant_values=-1)
    valid = tf.sequence_mask(steps, tf.shape(best)[1])
    keep = valid & (best != 0) & (best != previous)
    ids = tf.ragged.boolean_mask(best, keep)
    table = tf.constant(["", *ALPHABET])
    chars = tf.ragged.map_flat_values(tf.gather, table, ids)
    texts = tf.strings.reduce_join(chars, axis=-1)
    return tf.strings.strip(tf.strings.regex_replace(texts, " +", " "))
