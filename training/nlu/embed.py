"""Utterance embeddings of an NLU model: the vector its intent head reads, one per text.

Works with an exported SavedModel (:func:`training.nlu.export.load`, a registered version)
and with an in-process :class:`training.nlu.export.NLUServing` alike. Versions exported
before the ``embed`` function existed have none: :class:`NoEmbeddingError` says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from core.errors import InputError

#: Texts per call: bounds the padded ``[b, T, C]`` character tensor of one call.
BATCH_SIZE = 256


class NoEmbeddingError(InputError):
    """The model has no ``embed`` function (exported before embeddings existed)."""


def has_embeddings(model: Any) -> bool:
    return hasattr(model, "embed")


def embed_texts(model: Any, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
    """``[len(texts), dim]`` float32 utterance vectors (not normalized)."""
    import tensorflow as tf

    if not has_embeddings(model):
        raise NoEmbeddingError(
            "this NLU model has no `embed` function (exported before embeddings existed): "
            "retrain and register a new version"
        )
    if not texts:
        return np.zeros((0, embedding_dim(model)), np.float32)
    parts = [
        np.asarray(model.embed(tf.constant(list(texts[start : start + batch_size]))))
        for start in range(0, len(texts), batch_size)
    ]
    return np.concatenate(parts).astype(np.float32)


def embedding_dim(model: Any) -> int:
    """The vector size (``2 * encoder_units``), from one call on an empty text."""
    import tensorflow as tf

    return int(np.asarray(model.embed(tf.constant([""]))).shape[-1])


def normalized(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero): dot products are cosines."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)
