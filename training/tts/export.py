"""A SavedModel that speaks raw text: text encoding, acoustic model and vocoder in one graph.

``serving_default`` (also the ``serve`` function), the house voice of each language:

    inputs   texts        [b]     tf.string   raw text (lowercased inside)
             languages    [b]     tf.string   "ru" | "en"
    outputs  waveforms    [b, n]  tf.float32  -1..1, zero after each utterance's length
             lengths      [b]     tf.int32    samples per utterance
             sample_rate  []      tf.int32

``score`` (teacher forcing, for evaluation): texts, languages, speakers (catalog ids) and
the measured durations ``[b, T]`` -> the predicted log-mel at those durations and the
predicted durations. ``config_json`` holds the training config (audio parameters).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from training.tts.config import TTSConfig
from training.tts.features import MelSpec
from training.tts.model import FastSpeech
from training.tts.speakers import SpeakerParser
from training.tts.text import TextEncoder

OUTPUT_PEAK = 0.5


class TTSServing(tf.Module):
    """The trained model with its text encoder, speaker parser and vocoder."""

    def __init__(self, model: FastSpeech, config: TTSConfig):
        super().__init__(name="tts_serving")
        self.model = model
        self.encoder = TextEncoder(config.max_chars)
        self.parser = SpeakerParser()
        self.spec = MelSpec(
            config.sample_rate, config.n_fft, config.hop, config.n_mels, config.fmin, config.fmax
        )
        self.house = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(["ru", "en"]), tf.constant([config.house_ru, config.house_en])
            ),
            default_value=config.house_en,
        )
        self.config_json = tf.Variable(json.dumps(config.to_dict()), trainable=False)
        self.iterations = config.griffin_lim_iters
        self.power = config.griffin_lim_power
        self.sample_rate = config.sample_rate
        self.hop = config.hop

    def _inputs(self, texts, languages, speakers) -> dict[str, tf.Tensor]:
        variant, accent, prosody = self.parser(speakers)
        return {
            "chars": self.encoder(texts),
            "language": self.encoder.languages(languages),
            "variant": variant,
            "accent": accent,
            "prosody": prosody,
        }

    @tf.function(
        input_signature=[
            tf.TensorSpec([None], tf.string, name="texts"),
            tf.TensorSpec([None], tf.string, name="languages"),
        ]
    )
    def serve(self, texts: tf.Tensor, languages: tf.Tensor) -> dict[str, tf.Tensor]:
        inputs = self._inputs(texts, languages, self.house.lookup(languages))
        h, speaker, log_durations = self.model.encode(inputs)
        durations = self.model.predicted_durations(log_durations, inputs["chars"])
        durations = tf.concat([durations[:, :-1], tf.maximum(durations[:, -1:], 1)], axis=1)
        mel, mask = self.model.decode(h, speaker, durations)
        audio = self.spec.griffin_lim(mel, self.iterations, self.power)
        lengths = tf.cast(tf.reduce_sum(mask, axis=1), tf.int32) * self.hop
        valid = tf.sequence_mask(lengths, tf.shape(audio)[1], tf.float32)
        audio *= valid
        peak = tf.reduce_max(tf.abs(audio), axis=1, keepdims=True)
        audio = audio * (OUTPUT_PEAK / tf.maximum(peak, 1e-6))
        return {
            "waveforms": audio,
            "lengths": lengths,
            "sample_rate": tf.constant(self.sample_rate, tf.int32),
        }

    @tf.function(
        input_signature=[
            tf.TensorSpec([None], tf.string, name="texts"),
            tf.TensorSpec([None], tf.string, name="languages"),
            tf.TensorSpec([None], tf.string, name="speakers"),
            tf.TensorSpec([None, None], tf.int32, name="durations"),
        ]
    )
    def score(self, texts, languages, speakers, durations) -> dict[str, tf.Tensor]:
        inputs = self._inputs(texts, languages, speakers)
        width = tf.shape(inputs["chars"])[1]
        durations = tf.pad(durations, [[0, 0], [0, tf.maximum(width - tf.shape(durations)[1], 0)]])
        durations = durations[:, :width]
        h, speaker, log_durations = self.model.encode(inputs)
        mel, _ = self.model.decode(h, speaker, durations)
        return {
            "log_mel": mel,
            "durations": self.model.predicted_durations(log_durations, inputs["chars"]),
        }


def export(serving: TTSServing, path: Path) -> Path:
    """Write the SavedModel (``serving_default`` and ``score`` signatures) to ``path``."""
    path = Path(path)
    tf.saved_model.save(
        serving,
        str(path),
        signatures={"serving_default": serving.serve, "score": serving.score},
    )
    return path


def load(path: Path) -> Any:
    """The exported module: ``serve``, ``score``, ``config_json`` and the signatures."""
    return tf.saved_model.load(str(path))


def config_of(model: Any) -> TTSConfig:
    """The training config stored in a (loaded or in-process) serving module."""
    fields = json.loads(model.config_json.numpy().decode())
    fields.pop("family", None)
    return TTSConfig(**fields)


def synthesize(
    model: Any, texts: list[str], languages: list[str], batch_size: int = 16
) -> tuple[list[np.ndarray], int]:
    """Waveforms (float32, -1..1, each cut to its length) and their sample rate.

    Works with a loaded SavedModel and with an in-process :class:`TTSServing` alike.
    """
    waves: list[np.ndarray] = []
    rate = config_of(model).sample_rate
    for start in range(0, len(texts), batch_size):
        out = model.serve(
            texts=tf.constant(texts[start : start + batch_size]),
            languages=tf.constant(languages[start : start + batch_size]),
        )
        audio, lengths = out["waveforms"].numpy(), out["lengths"].numpy()
        rate = int(out["sample_rate"].numpy())
        waves += [audio[i, : lengths[i]] for i in range(len(lengths))]
    return waves, rate
