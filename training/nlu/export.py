"""A SavedModel that carries its own preprocessing: raw texts in, intent and slot tags out.

Serving signature ``serving_default`` (also the ``serve`` function):

    input   texts       [b]     tf.string   raw customer utterances
    output  intent      [b]     tf.string   taxonomy intent name
            confidence  [b]     tf.float32  its softmax probability
            tokens      [b, T]  tf.string   the tokens the model saw ("" = padding)
            slot_tags   [b, T]  tf.string   a BIO tag per token ("" = padding)

T is the config's ``max_tokens``; longer texts are cut. :func:`predict` turns tags into
``{slot: words}`` (the words as written in the text, e.g. ``{"city": "Москве"}``).

The ``embed`` function (not a serving signature) maps the same texts to the utterance vector
the intent head reads: the ``pooled`` layer, masked mean and max of the encoder's per-token
features, ``[b, 2 * encoder_units]`` float32 (:mod:`training.nlu.embed`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from training.nlu.bio import slot_values
from training.nlu.text import Encoder


class NLUServing(tf.Module):
    """The trained model with its encoder and label names, as one saveable module."""

    def __init__(self, model: keras.Model, encoder: Encoder, intents: list[str], tags: list[str]):
        super().__init__(name="nlu_serving")
        self.model = model
        self.encoder = encoder
        self.intent_names = tf.constant(intents)
        self.tag_names = tf.constant(tags)
        # shares the model's weights: saving it adds no variables
        self.embedder = keras.Model(model.input, model.get_layer("pooled").output)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def serve(self, texts: tf.Tensor) -> dict[str, tf.Tensor]:
        tokens, inputs = self.encoder(texts)
        out = self.model(inputs, training=False)
        best = tf.argmax(out["intent"], axis=-1)
        tags = tf.gather(self.tag_names, tf.argmax(out["slots"], axis=-1))
        return {
            "intent": tf.gather(self.intent_names, best),
            "confidence": tf.reduce_max(out["intent"], axis=-1),
            "tokens": tokens,
            "slot_tags": tf.where(tokens == "", tf.constant(""), tags),
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def embed(self, texts: tf.Tensor) -> tf.Tensor:
        """The pooled encoder output of each text, before the intent head."""
        _, inputs = self.encoder(texts)
        return self.embedder(inputs, training=False)


def export(serving: NLUServing, path: Path) -> Path:
    """Write the SavedModel (with the ``serving_default`` signature) to ``path``."""
    path = Path(path)
    tf.saved_model.save(serving, str(path), signatures={"serving_default": serving.serve})
    return path


def load(path: Path) -> Any:
    """The exported module: has ``serve(texts)`` and ``signatures["serving_default"]``."""
    return tf.saved_model.load(str(path))


def _text(value: bytes) -> str:
    return value.decode("utf-8")


def predict(loaded: Any, texts: list[str]) -> list[dict[str, Any]]:
    """``[{"text", "intent", "confidence", "slots", "tokens", "tags"}]``, one per text.

    Works with a loaded SavedModel and with an in-process :class:`NLUServing` alike.
    """
    if not texts:
        return []
    out = {k: np.asarray(v) for k, v in loaded.serve(tf.constant(texts)).items()}
    results = []
    for i, text in enumerate(texts):
        tokens = [_text(t) for t in out["tokens"][i] if t]
        tags = [_text(t) for t in out["slot_tags"][i][: len(tokens)]]
        results.append(
            {
                "text": text,
                "intent": _text(out["intent"][i]),
                "confidence": float(out["confidence"][i]),
                "slots": slot_values(tokens, tags),
                "tokens": tokens,
                "tags": tags,
            }
        )
    return results
