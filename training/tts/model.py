"""The acoustic model: a FastSpeech-like non-autoregressive text -> log-mel network.

symbols + language + speaker -> conv encoder -> duration predictor (log frames per symbol)
-> length regulator (each symbol repeated for its frames, plus its position inside the
symbol) -> conv decoder -> log-mel. Training feeds the measured durations (teacher forcing).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from training.tts.config import TTSConfig
from training.tts.features import SILENCE
from training.tts.speakers import SpeakerParser
from training.tts.text import SYMBOLS

INITIAL_LOG_FRAMES = float(np.log1p(6.0))


def _delta(mel: tf.Tensor) -> tf.Tensor:
    """Frame-to-frame change of a ``[b, F, n_mels]`` log-mel: ``[b, F - 1, n_mels]``."""
    return mel[:, 1:] - mel[:, :-1]


class ConvBlock(keras.layers.Layer):
    """Residual Conv1D -> ReLU -> LayerNorm -> Dropout, padding positions kept at zero.

    ``separable``: a depthwise-separable convolution (LightSpeech's choice), ~``kernel`` times
    fewer multiply-adds than a full one of the same width.
    """

    def __init__(self, dim: int, kernel: int, dropout: float, separable: bool = False, **kwargs):
        super().__init__(**kwargs)
        conv = keras.layers.SeparableConv1D if separable else keras.layers.Conv1D
        self.conv = conv(dim, kernel, padding="same")
        self.norm = keras.layers.LayerNormalization()
        self.drop = keras.layers.Dropout(dropout)

    def call(self, x: tf.Tensor, mask: tf.Tensor, training: bool = False) -> tf.Tensor:
        y = self.drop(self.norm(tf.nn.relu(self.conv(x))), training=training)
        return (x + y) * mask


class ConvStack(keras.layers.Layer):
    """``layers`` ConvBlocks applied in turn."""

    def __init__(
        self, layers: int, dim: int, kernel: int, dropout: float, separable: bool = False, **kwargs
    ):
        super().__init__(**kwargs)
        self.blocks = [
            ConvBlock(dim, kernel, dropout, separable, name=f"block{i}") for i in range(layers)
        ]

    def call(self, x: tf.Tensor, mask: tf.Tensor, training: bool = False) -> tf.Tensor:
        for block in self.blocks:
            x = block(x, mask, training=training)
        return x


class Postnet(keras.layers.Layer):
    """mel -> Dense -> ``postnet_layers`` ConvBlocks at the full frame rate -> Dense: a
    residual added to the mel (Tacotron 2's postnet: it sharpens what a decoder blurs)."""

    def __init__(self, config: TTSConfig, **kwargs):
        super().__init__(**kwargs)
        self.project = keras.layers.Dense(config.postnet_dim)
        self.convs = ConvStack(
            config.postnet_layers, config.postnet_dim, config.kernel, config.dropout, name="convs"
        )
        # starts as the identity: the decoder's mel passes through untouched at first
        self.residual = keras.layers.Dense(config.n_mels, kernel_initializer="zeros")

    def call(self, mel: tf.Tensor, mask: tf.Tensor, training: bool = False) -> tf.Tensor:
        frames = mask[..., None]
        x = self.convs(self.project(mel) * frames, frames, training=training)
        return mel + self.residual(x) * frames


def length_regulate(
    h: tf.Tensor, durations: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """Repeat each symbol's vector for its frames.

    ``h [b, T, d]``, ``durations [b, T]`` int32 -> ``frames [b, F, d]``, ``within [b, F]``
    (0..1 position inside the symbol), ``mask [b, F]`` float, ``totals [b]`` (F = max total).
    """
    durations = tf.maximum(tf.cast(durations, tf.int32), 0)
    ends = tf.cumsum(durations, axis=1)
    totals = ends[:, -1]
    n_frames = tf.maximum(tf.reduce_max(totals), 1)
    frame = tf.broadcast_to(tf.range(n_frames)[None, :], [tf.shape(h)[0], n_frames])
    index = tf.minimum(tf.searchsorted(ends, frame, side="right"), tf.shape(h)[1] - 1)
    frames = tf.gather(h, index, batch_dims=1)
    start = tf.gather(ends - durations, index, batch_dims=1)
    length = tf.gather(durations, index, batch_dims=1)
    within = tf.cast(frame - start, tf.float32) / tf.cast(tf.maximum(length, 1), tf.float32)
    mask = tf.cast(frame < totals[:, None], tf.float32)
    return frames * mask[..., None], within * mask, mask, totals


class FastSpeech(keras.Model):
    """Inputs: chars, language, variant, accent, prosody, durations (see :meth:`call`)."""

    def __init__(self, config: TTSConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        d = config.dim
        self.embed = keras.layers.Embedding(len(SYMBOLS), d)
        self.language = keras.layers.Embedding(2, d)
        self.variant = keras.layers.Embedding(SpeakerParser.n_variants, config.speaker_dim)
        self.accent = keras.layers.Embedding(SpeakerParser.n_accents, config.speaker_dim)
        self.speaker = keras.layers.Dense(d)
        args = (d, config.kernel, config.dropout)
        self.encoder = ConvStack(config.encoder_layers, *args, name="encoder")
        self.duration_stack = ConvStack(config.duration_layers, *args, name="duration")
        # starts near a typical symbol (~6 frames): no first epoch spent on wild durations
        self.duration_out = keras.layers.Dense(
            1, bias_initializer=keras.initializers.Constant(INITIAL_LOG_FRAMES)
        )
        self.frame_in = keras.layers.Dense(d)
        self.decoder = ConvStack(
            config.decoder_layers,
            d,
            config.decoder_kernel or config.kernel,
            config.dropout,
            config.separable_decoder,
            name="decoder",
        )
        self.mel_out = keras.layers.Dense(config.n_mels * config.reduction)
        self.postnet = Postnet(config, name="postnet") if config.postnet_layers else None
        self.mel_tracker = keras.metrics.Mean(name="mel_l1")
        self.delta_tracker = keras.metrics.Mean(name="delta_l1")
        self.duration_tracker = keras.metrics.Mean(name="duration_loss")
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def encode(self, inputs: dict[str, tf.Tensor], training: bool = False):
        """-> symbol states ``[b, T, d]``, speaker ``[b, 1, d]``, log(1 + frames) ``[b, T]``."""
        chars = inputs["chars"]
        mask = tf.cast(chars > 0, tf.float32)[..., None]
        speaker = self.speaker(
            tf.concat(
                [self.variant(inputs["variant"]), self.accent(inputs["accent"]), inputs["prosody"]],
                axis=-1,
            )
        )[:, None, :]
        x = (self.embed(chars) + self.language(inputs["language"])[:, None, :]) * mask
        h = self.encoder(x, mask, training=training)
        hd = self.duration_stack((h + speaker) * mask, mask, training=training)
        log_durations = self.duration_out(hd)[..., 0] * mask[..., 0]
        return h, speaker, log_durations

    def decode(self, h, speaker, durations, training: bool = False):
        """-> log-mel ``[b, F, n_mels]`` (silence outside each utterance) and frame mask:
        the postnet's refinement of :meth:`decode_coarse` when the config has one."""
        mel, mask = self.decode_coarse(h, speaker, durations, training=training)
        if self.postnet is None:
            return mel, mask
        return self.postnet(mel, mask, training=training), mask

    def decode_coarse(self, h, speaker, durations, training: bool = False):
        """-> the decoder's log-mel ``[b, F, n_mels]`` (silence outside each utterance) and
        frame mask.

        With ``reduction`` r > 1 the decoder runs on groups of r frames (their inputs side by
        side, r frames of mel out per step): r times fewer positions, durations still exact.
        """
        frames, within, mask, _ = length_regulate(h + speaker, durations)
        angle = np.pi * within[..., None]
        position = tf.concat([within[..., None], tf.sin(angle), tf.cos(angle)], axis=-1)
        x = tf.concat([frames, position], axis=-1) * mask[..., None]
        r = self.config.reduction
        n = tf.shape(x)[1]
        padded = (n + r - 1) // r * r
        x = tf.pad(x, [[0, 0], [0, padded - n], [0, 0]])
        group_mask = tf.reduce_max(
            tf.reshape(tf.pad(mask, [[0, 0], [0, padded - n]]), [tf.shape(x)[0], -1, r]), -1
        )[..., None]
        x = tf.reshape(x, [tf.shape(x)[0], padded // r, r * x.shape[-1]])
        x = (self.frame_in(x) + speaker) * group_mask
        y = self.decoder(x, group_mask, training=training)
        mel = tf.reshape(self.mel_out(y), [tf.shape(y)[0], padded, self.config.n_mels])
        mel = mel[:, :n] + SILENCE / 2
        return mel * mask[..., None] + SILENCE * (1.0 - mask[..., None]), mask

    def call(self, inputs: dict[str, tf.Tensor], training: bool = False):
        h, speaker, log_durations = self.encode(inputs, training=training)
        coarse, mask = self.decode_coarse(h, speaker, inputs["durations"], training=training)
        out = {"mel": coarse, "log_durations": log_durations}
        if self.postnet is not None:
            out["mel"] = self.postnet(coarse, mask, training=training)
            out["coarse_mel"] = coarse
        return out

    def predicted_durations(self, log_durations: tf.Tensor, chars: tf.Tensor) -> tf.Tensor:
        """Rounded frame counts from the predictor (0 on padding, capped per symbol)."""
        frames = tf.round(tf.exp(log_durations) - 1.0)
        frames = tf.clip_by_value(frames, 0.0, float(self.config.max_char_frames))
        return tf.cast(frames, tf.int32) * tf.cast(chars > 0, tf.int32)

    def _loss_terms(self, inputs, mel_true, training: bool):
        out = self(inputs, training=training)
        chars_mask = tf.cast(inputs["chars"] > 0, tf.float32)
        frames = tf.shape(out["mel"])[1]
        mel_true = mel_true[:, :frames]
        totals = tf.reduce_sum(tf.maximum(inputs["durations"], 0), axis=1)
        frame_mask = tf.sequence_mask(totals, frames, tf.float32)

        def l1(mel: tf.Tensor) -> tf.Tensor:
            return tf.reduce_sum(
                tf.reduce_mean(tf.abs(mel - mel_true), -1) * frame_mask
            ) / tf.maximum(tf.reduce_sum(frame_mask), 1.0)

        mel_l1 = l1(out["mel"])
        if "coarse_mel" in out:  # the decoder learns a mel of its own, the postnet the rest
            mel_l1 = mel_l1 + l1(out["coarse_mel"])
        # the same on frame-to-frame changes: L1 alone blurs transitions, and a recogniser
        # needs them sharp (smoothing recordings by 20 ms in time doubles the STT's CER)
        pair_mask = frame_mask[:, 1:] * frame_mask[:, :-1]
        delta_l1 = tf.reduce_sum(
            tf.reduce_mean(tf.abs(_delta(out["mel"]) - _delta(mel_true)), -1) * pair_mask
        ) / tf.maximum(tf.reduce_sum(pair_mask), 1.0)
        target = tf.math.log1p(tf.cast(inputs["durations"], tf.float32))
        duration_loss = tf.reduce_sum(
            tf.square(out["log_durations"] - target) * chars_mask
        ) / tf.maximum(tf.reduce_sum(chars_mask), 1.0)
        return mel_l1, delta_l1, duration_loss

    def _loss(self, mel_l1, delta_l1, duration_loss) -> tf.Tensor:
        config = self.config
        return (
            mel_l1
            + config.delta_loss_weight * delta_l1
            + config.duration_loss_weight * duration_loss
        )

    def _track(self, mel_l1, delta_l1, duration_loss, loss) -> dict[str, tf.Tensor]:
        self.mel_tracker.update_state(mel_l1)
        self.delta_tracker.update_state(delta_l1)
        self.duration_tracker.update_state(duration_loss)
        self.loss_tracker.update_state(loss)
        return {m.name: m.result() for m in self.metrics}

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [self.loss_tracker, self.mel_tracker, self.delta_tracker, self.duration_tracker]

    def train_step(self, data):
        inputs, mel_true, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            losses = self._loss_terms(inputs, mel_true, training=True)
            loss = self._loss(*losses)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables, strict=True))
        return self._track(*losses, loss)

    def test_step(self, data):
        inputs, mel_true, _ = keras.utils.unpack_x_y_sample_weight(data)
        losses = self._loss_terms(inputs, mel_true, training=False)
        return self._track(*losses, self._loss(*losses))
