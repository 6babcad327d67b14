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

Signature ``transcribe_language`` (the ``serve_language`` function) takes one more input,
``languages`` [b] tf.string (``"ru"``, ``"en"``, ``""`` = unknown), and decodes each
utterance with the other language's letters masked (``training.stt.language``): the caller's
IVR choice of language, so a Russian call is never written in English letters.

:func:`transcribe` is the Python helper (list of arrays in, list of strings out; with
``languages``, masked decoding on models that have it).
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
from training.stt.language import mask_logits
from training.stt.lm import CharLM
from training.stt.model import output_lengths

WAVEFORM_SIGNATURE = [
    tf.TensorSpec([None, None], tf.float32, name="waveforms"),
    tf.TensorSpec([None], tf.int32, name="lengths"),
    tf.TensorSpec([], tf.int32, name="sample_rate"),
]
LANGUAGE_SIGNATURE = [*WAVEFORM_SIGNATURE, tf.TensorSpec([None], tf.string, name="languages")]
#: The saved signature of masked decoding (``serving_default`` stays language-blind).
LANGUAGE_SIGNATURE_NAME = "transcribe_language"


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

    @tf.function(input_signature=LANGUAGE_SIGNATURE)
    def serve_language(
        self, waveforms: tf.Tensor, lengths: tf.Tensor, sample_rate: tf.Tensor, languages: tf.Tensor
    ) -> dict[str, tf.Tensor]:
        out = self.acoustic(waveforms, lengths, sample_rate)
        return {"texts": self.decode(mask_logits(out["logits"], languages), out["steps"])}


def export(serving: STTServing, path: Path) -> Path:
    """Write the SavedModel (``serving_default`` and ``transcribe_language``) to ``path``."""
    path = Path(path)
    signatures = {"serving_default": serving.serve, LANGUAGE_SIGNATURE_NAME: serving.serve_language}
    tf.saved_model.save(serving, str(path), signatures=signatures)
    return path


def load(path: Path) -> Any:
    """The exported module: has ``serve(...)`` and ``signatures["serving_default"]``."""
    return tf.saved_model.load(str(path))


def acoustic_outputs(
    model: Any,
    waveforms: list[np.ndarray],
    sample_rate: int,
    batch_size: int = 32,
    languages: list[str] | None = None,
) -> list[tuple[list[int], tf.Tensor, tf.Tensor]]:
    """``(indices, logits, steps)`` per length-sorted batch of ``waveforms``; with
    ``languages``, the logits are masked to each utterance's language."""
    order = sorted(range(len(waveforms)), key=lambda i: len(waveforms[i]))
    batches = []
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        batch, lengths = pad_batch([np.asarray(waveforms[i], np.float32) for i in chunk])
        out = model.acoustic(tf.constant(batch), tf.constant(lengths), tf.constant(sample_rate))
        logits = out["logits"]
        if languages is not None:
            logits = mask_logits(logits, tf.constant([languages[i] for i in chunk]))
        batches.append((chunk, logits, out["steps"]))
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


def knows_language(model: Any) -> bool:
    """Whether ``model`` (in-process or loaded) decodes with a language input."""
    return hasattr(model, "serve_language")


def transcribe(
    model: Any,
    waveforms: list[np.ndarray],
    sample_rate: int,
    batch_size: int = 32,
    languages: list[str | None] | None = None,
) -> list[str]:
    """Texts of ``waveforms`` (float arrays at ``sample_rate``); in-process or loaded alike.

    ``languages`` (one per waveform; None or "" = unknown) masks each utterance's decoding to
    its language's letters on models saved with ``transcribe_language``; models saved before
    it decode without. Utterances are batched by length, so padding stays small; the order
    is kept.
    """
    if languages is not None and len(languages) != len(waveforms):
        raise ValueError(f"{len(languages)} languages for {len(waveforms)} waveforms")
    masked = languages is not None and knows_language(model)
    order = sorted(range(len(waveforms)), key=lambda i: len(waveforms[i]))
    texts: list[str] = [""] * len(waveforms)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        batch, lengths = pad_batch([np.asarray(waveforms[i], np.float32) for i in chunk])
        inputs = (tf.constant(batch), tf.constant(lengths), tf.constant(sample_rate))
        if masked:
            codes = tf.constant([languages[i] or "" for i in chunk])  # type: ignore[index]
            out = model.serve_language(*inputs, codes)
        else:
            out = model.serve(*inputs)
        for i, text in zip(chunk, out["texts"].numpy(), strict=True):
            texts[i] = text.decode("utf-8")
    return texts
