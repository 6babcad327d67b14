"""The acoustic model: log-mel -> per-step character logits, trained with CTC.

    features [b, T, n_mels] --2-D convs (stride 1x2, then time_stride x 2)--> [b, T/3, .]
      -> Dense -> ``blocks`` x (depthwise conv + pointwise, LayerNorm, GELU, residual)
      -> self-attention layers (optional) -> BiGRU (optional)
      -> Dense(len(ALPHABET) + 1)                             id 0 = CTC blank

Padded steps are zeroed after every block so a batch gives the same outputs as one
utterance at a time.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf
from keras import layers, ops

from training.stt.config import STTConfig
from training.stt.text import ALPHABET


def output_lengths(frames: tf.Tensor, time_stride: int) -> tf.Tensor:
    """Logit steps of ``frames`` feature frames: ceil(frames / time_stride)."""
    return (tf.cast(frames, tf.int32) + time_stride - 1) // time_stride


class StackFrames(layers.Layer):
    """[b, T, f] -> [b, ceil(T / k), k * f]: k consecutive frames side by side."""

    def __init__(self, k: int, **kwargs):
        super().__init__(**kwargs)
        self.k = k

    def call(self, x: tf.Tensor) -> tf.Tensor:
        t, f = tf.shape(x)[1], x.shape[-1]
        x = tf.pad(x, [[0, 0], [0, (-t) % self.k], [0, 0]])
        return tf.reshape(x, [tf.shape(x)[0], -1, self.k * f])

    def compute_output_shape(self, shape: tuple) -> tuple:
        return (shape[0], None, self.k * shape[-1])

    def get_config(self) -> dict:
        return super().get_config() | {"k": self.k}


class StepMask(layers.Layer):
    """[b, T', 1] float mask of the valid logit steps, from the feature frame counts."""

    def __init__(self, time_stride: int, **kwargs):
        super().__init__(**kwargs)
        self.time_stride = time_stride

    def call(self, x: tf.Tensor, frames: tf.Tensor) -> tf.Tensor:
        steps = output_lengths(frames, self.time_stride)
        return tf.sequence_mask(steps, tf.shape(x)[1], dtype=x.dtype)[:, :, None]

    def compute_output_shape(self, x_shape: tuple, frames_shape: tuple) -> tuple:
        return (x_shape[0], x_shape[1], 1)

    def get_config(self) -> dict:
        return super().get_config() | {"time_stride": self.time_stride}


def _block(config: STTConfig, i: int) -> keras.Sequential:
    return keras.Sequential(
        [
            layers.DepthwiseConv1D(config.kernel, padding="same", name=f"dw{i}"),
            layers.Dense(config.channels, name=f"pw{i}"),
            layers.LayerNormalization(name=f"ln{i}"),
            layers.Activation("gelu"),
            layers.Dropout(config.dropout),
        ],
        name=f"block{i}",
    )


class SelfAttentionBlock(layers.Layer):
    """Pre-norm multi-head self-attention with a residual-ready output (conformer-lite)."""

    def __init__(self, channels: int, heads: int, dropout: float, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.heads, self.dropout = channels, heads, dropout
        self.norm = layers.LayerNormalization()
        self.attention = layers.MultiHeadAttention(heads, channels // heads, dropout=dropout)

    def call(self, x: tf.Tensor, attention_mask: tf.Tensor, training: bool = False) -> tf.Tensor:
        y = self.norm(x)
        return self.attention(y, y, attention_mask=attention_mask, training=training)

    def get_config(self) -> dict:
        return super().get_config() | {
            "channels": self.channels,
            "heads": self.heads,
            "dropout": self.dropout,
        }


def _attention(config: STTConfig, i: int) -> SelfAttentionBlock:
    return SelfAttentionBlock(
        config.channels, config.attention_heads, config.dropout, name=f"attention{i}"
    )


def build_model(config: STTConfig) -> keras.Model:
    """Inputs ``features`` [b, T, n_mels] and ``frames`` [b]; output logits [b, T', V+1]."""
    features = keras.Input((None, config.n_mels), name="features")
    frames = keras.Input((), dtype="int32", name="frames")
    if config.front_filters:
        x = ops.expand_dims(features, -1)
        x = layers.Conv2D(
            config.front_filters, 3, (1, 2), "same", activation="gelu", name="front1"
        )(x)
        stride = (config.time_stride, 2)
        x = layers.Conv2D(
            config.front_filters, 3, stride, "same", activation="gelu", name="front2"
        )(x)
        width = math.ceil(math.ceil(config.n_mels / 2) / 2) * config.front_filters
        x = layers.Reshape((-1, width))(x)
    else:
        x = StackFrames(config.time_stride, name="stack")(features)
    x = layers.Dense(config.channels, name="project")(x)
    mask = StepMask(config.time_stride, name="step_mask")(x, frames)
    x = x * mask
    for i in range(config.blocks):
        x = (x + _block(config, i)(x)) * mask
    if config.attention_layers:
        bool_mask = ops.squeeze(mask, -1) > 0.5
        attend = bool_mask[:, None, :] & bool_mask[:, :, None]
        for i in range(config.attention_layers):
            x = (x + _attention(config, i)(x, attend)) * mask
    if config.rnn_units:
        bool_mask = ops.squeeze(mask, -1) > 0.5
        rnn = layers.Bidirectional(layers.GRU(config.rnn_units, return_sequences=True), name="rnn")
        x = rnn(x, mask=bool_mask)
        x = layers.Dropout(config.dropout)(x) * mask
    logits = layers.Dense(len(ALPHABET) + 1, name="logits")(x)
    return keras.Model({"features": features, "frames": frames}, logits, name="stt_acoustic")


def _sparse_labels(labels: tf.Tensor, lengths: tf.Tensor) -> tf.SparseTensor:
    """Padded [b, L] labels -> the SparseTensor that selects TensorFlow's C++ CTC kernel."""
    labels = tf.cast(labels, tf.int32)
    where = tf.where(tf.sequence_mask(lengths, tf.shape(labels)[1]))
    shape = tf.cast(tf.shape(labels), tf.int64)
    return tf.SparseTensor(where, tf.gather_nd(labels, where), shape)


def ctc_loss(logits: tf.Tensor, frames: tf.Tensor, targets: dict, time_stride: int) -> tf.Tensor:
    """Mean CTC negative log-likelihood (blank = 0).

    Labels go in sparse: with dense labels ``tf.nn.ctc_loss`` runs a scan of TF ops, about
    6x slower on CPU than the C++ kernel, and the loss took most of each training step.
    """
    losses = tf.nn.ctc_loss(
        labels=_sparse_labels(targets["labels"], targets["label_lengths"]),
        logits=logits,
        label_length=None,
        logit_length=output_lengths(frames, time_stride),
        logits_time_major=False,
        blank_index=0,
    )
    return tf.reduce_mean(losses)


class CTCTrainer(keras.Model):
    """Wraps the acoustic model so ``fit()`` trains it with CTC (loss logged as ``loss``)."""

    def __init__(self, acoustic: keras.Model, time_stride: int, **kwargs):
        super().__init__(**kwargs)
        self.acoustic = acoustic
        self.time_stride = time_stride
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def call(self, inputs: dict, training: bool = False) -> tf.Tensor:
        return self.acoustic(inputs, training=training)

    @property
    def metrics(self) -> list:
        return [self.loss_tracker]

    def train_step(self, data):
        inputs, targets = data
        with tf.GradientTape() as tape:
            logits = self.acoustic(inputs, training=True)
            loss = ctc_loss(logits, inputs["frames"], targets, self.time_stride)
        variables = self.acoustic.trainable_variables
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        inputs, targets = data
        logits = self.acoustic(inputs, training=False)
        self.loss_tracker.update_state(
            ctc_loss(logits, inputs["frames"], targets, self.time_stride)
        )
        return {"loss": self.loss_tracker.result()}
