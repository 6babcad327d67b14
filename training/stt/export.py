"""A SavedModel that carries its own preprocessing: raw waveforms in, text out.

Serving signature ``serving_default`` (also the ``serve`` function):

    input   waveforms    [b, n]  tf.float32  zero-padded samples in -1..1
            lengths      [b]     tf.int32    valid samples of each waveform
            sample_rate  []      tf.int32    any rate; resampled to 8 kHz inside
    output  texts        [b]     tf.string   normalized transcripts (see ``text.normalize``)

:func:`transcribe` is the Python helper (list of arrays in, list of strings out).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from training.common.audio import pad_batch
from training.stt.config import STTConfig
from training.stt.decode import greedy_decode
from training.stt.features import features
from training.stt.model import output_lengths


class STTServing(tf.Module):
    """The trained acoustic model with its feature extraction and decoder, saveable as one."""

    def __init__(self, model: keras.Model, config: STTConfig):
        super().__init__(name="stt_serving")
        self.model = model
        self.n_mels = config.n_mels
        self.time_stride = config.time_stride
        self.config_json = tf.constant(str(config.to_dict()))

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None], tf.float32, name="waveforms"),
            tf.TensorSpec([None], tf.int32, name="lengths"),
            tf.TensorSpec([], tf.int32, name="sample_rate"),
        ]
    )
    def serve(
        self, waveforms: tf.Tensor, lengths: tf.Tensor, sample_rate: tf.Tensor
    ) -> dict[str, tf.Tensor]:
        feats, frames = features(waveforms, lengths, sample_rate, self.n_mels)
        logits = self.model({"features": feats, "frames": frames}, training=False)
        return {"texts": greedy_decode(logits, output_lengths(frames, self.time_stride))}


def export(serving: STTServing, path: Path) -> Path:
    """Write the SavedModel (with the ``serving_default`` signature) to ``path``."""
    path = Path(path)
    tf.saved_model.save(serving, str(path), signatures={"serving_default": serving.serve})
    return path


def load(path: Path) -> Any:
    """The exported module: has ``serve(...)`` and ``signatures["serving_default"]``."""
    return tf.saved_model.load(str(path))


def transcribe(
    model: Any, waveforms: list[np.ndarray], sample_rate: int, batch_size: int = 32
) -> list[str]:
    """Texts of ``waveforms`` (float arrays at ``sample_rate``); in-process or loaded alike.

    Utterances are batched by length, so padding stays small; the order is kept.
    """
    order = sorted(range(len(waveforms)), key=lambda i: len(waveforms[i]))
    texts: list[str] = [""] * len(waveforms)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        batch, lengths = pad_batch([np.asarray(waveforms[i], np.float32) for i in chunk])
        out = model.serve(tf.constant(batch), tf.constant(lengths), tf.constant(sample_rate))
        for i, text in zip(chunk, out["texts"].numpy(), strict=True):
            texts[i] = text.decode("utf-8")
    return texts
