"""A SavedModel that carries its own preprocessing: raw waveforms in, text out.

Serving signature ``serving_default`` (also the ``serve`` function):

    input   waveforms    [b, n]  tf.float32  zero-padded samples in -1..1
            lengths      [b]     tf.int32    valid samples of each waveform
            sample_rate  []      tf.int32    any rate; resampled to 8 kHz inside
    output  texts        [b]     tf.string   normalized transcripts (see ``text.normalize``)

Decoding is greedy, or (with a :class:`~training.stt.lm.CharLM` and
:class:`~training.stt.beam.BeamSettings`) a prefix beam search with the character LM, whose
tables are saved with the model. ``acoustic`` (same inputs) returns the CTC ``logits`` and
their valid ``steps``, for decoding them more than one way. ``config_json`` and
``decoder_json`` hold the training config and the decoder's settings.

:func:`transcribe` is the Python helper (list of arrays in, list of strings out).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from training.common.audio import pad_batch
from training.stt.beam import BeamSettings, LMTables, beam_search_decode
from training.stt.config import STTConfig
from training.stt.decode import greedy_decode
from training.stt.features import features
from training.stt.lm import CharLM
from training.stt.model import output_lengths

WAVEFORM_SIGNATURE = [
    tf.TensorSpec([None, None], tf.float32, name="waveforms"),
    tf.TensorSpec([None], tf.int32, name="lengths"),
    tf.TensorSpec([], tf.int32, name="sample_rate"),
]


class STTServing(tf.Module):
    """The trained acoustic model with its feature extraction and decoder, saveable as one."""

    def __init__(
        self,
        model: keras.Model,
        config: STTConfig,
        lm: CharLM | None = None,
        decoder: BeamSettings | None = None,
    ):
        super().__init__(name="stt_serving")
        self.model = model
        self.n_mels = config.n_mels
        self.time_stride = config.time_stride
        self.config_json = tf.Variable(json.dumps(config.to_dict()), trainable=False)
        self.lm = LMTables(lm) if lm is not None else None
        self.decoder = decoder
        described = dataclasses.asdict(decoder) if decoder else "greedy"
        self.decoder_json = tf.Variable(json.dumps(described), trainable=False)

    @tf.function(input_signature=WAVEFORM_SIGNATURE)
    def acoustic(
        self, waveforms: tf.Tensor, lengths: tf.Tensor, sample_rate: tf.Tensor
    ) -> dict[str, tf.Tensor]:
        feats, frames = features(waveforms, lengths, sample_rate, self.n_mels)
        logits = self.model({"features": feats, "frames": frames}, training=False)
        return {"logits": logits, "steps": output_lengths(frames, self.time_stride)}

    def decode(self, logits: tf.Tensor, steps: tf.Tensor) -> tf.Tensor:
        """Texts of CTC logits: beam search with the LM when one is set, else greedy."""
        if self.decoder is None:
            return greedy_decode(logits, steps)
        return beam_search_decode(logits, steps, self.lm, self.decoder)

    @tf.function(input_signature=WAVEFORM_SIGNATURE)
    def serve(
        self, waveforms: tf.Tensor, lengths: tf.Tensor, sample_rate: tf.Tensor
    ) -> dict[str, tf.Tensor]:
        out = self.acoustic(waveforms, lengths, sample_rate)
        return {"texts": self.decode(out["logits"], out["steps"])}


def export(serving: STTServing, path: Path) -> Path:
    """Write the SavedModel (with the ``serving_default`` signature) to ``path``."""
    path = Path(path)
    tf.saved_model.save(serving, str(path), signatures={"serving_default": serving.serve})
    return path


def load(path: Path) -> Any:
    """The exported module: has ``serve(...)`` and ``signatures["serving_default"]``."""
    return tf.saved_model.load(str(path))


def acoustic_outputs(
    model: Any, waveforms: list[np.ndarray], sample_rate: int, batch_size: int = 32
) -> list[tuple[list[int], tf.Tensor, tf.Tensor]]:
    """``(indices, logits, steps)`` per length-sorted batch of ``waveforms``."""
    order = sorted(range(len(waveforms)), key=lambda i: len(waveforms[i]))
    batches = []
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        batch, lengths = pad_batch([np.asarray(waveforms[i], np.float32) for i in chunk])
        out = model.acoustic(tf.constant(batch), tf.constant(lengths), tf.constant(sample_rate))
        batches.append((chunk, out["logits"], out["steps"]))
    return batches


def decoded_texts(
    batches: list[tuple[list[int], tf.Tensor, tf.Tensor]],
    decode: Callable[[tf.Tensor, tf.Tensor], tf.Tensor],
    count: int,
) -> list[str]:
    """Texts of :func:`acoustic_outputs` batches through ``decode``, in input order."""
    texts = [""] * count
    for chunk, logits, steps in batches:
        for i, text in zip(chunk, decode(logits, steps).numpy(), strict=True):
            texts[i] = text.decode("utf-8")
    return texts


def transcribe_greedy(model: Any, waveforms: list[np.ndarray], sample_rate: int) -> list[str]:
    """Texts by greedy CTC decoding of the model's logits: its acoustics without the LM."""
    batches = acoustic_outputs(model, waveforms, sample_rate)
    return decoded_texts(batches, greedy_decode, len(waveforms))


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
