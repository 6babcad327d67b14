"""Waveforms + transcripts -> ``tf.data`` batches of (features, labels), batched by length."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from training.stt.augment import perturb_waveform, random_warp_matrix, spec_augment
from training.stt.config import STTConfig
from training.stt.features import FRAME_STEP, MODEL_RATE, log_mel

FRAMES_PER_SECOND = MODEL_RATE // FRAME_STEP


def _bucketing(seconds: np.ndarray, config: STTConfig) -> tuple[list[int], list[int]]:
    """Frame boundaries (length quantiles) and a batch size per bucket (~max_batch_seconds)."""
    frames = np.asarray(seconds) * FRAMES_PER_SECOND * (1 + config.speed_range) + 2
    edges = sorted({int(q) + 1 for q in np.quantile(frames, np.linspace(0.1, 0.9, 9))})
    uppers = [*edges, int(frames.max()) + 2]
    sizes = [max(1, int(config.max_batch_seconds * FRAMES_PER_SECOND // u)) for u in uppers]
    return edges, sizes


def _fits(frames: tf.Tensor, labels: tf.Tensor, time_stride: int) -> tf.Tensor:
    """True when the CTC path exists: output steps >= labels + repeated neighbours."""
    repeats = tf.reduce_sum(tf.cast(labels[1:] == labels[:-1], tf.int32))
    steps = (frames + time_stride - 1) // time_stride
    return steps >= tf.shape(labels)[0] + repeats


def make_dataset(
    waveforms: list[np.ndarray],
    labels: list[list[int]],
    config: STTConfig,
    *,
    training: bool,
    seed: int | None = None,
) -> tf.data.Dataset:
    """Batches ``({"features", "frames"}, {"labels", "label_lengths"})``.

    ``waveforms`` are 8 kHz float32 arrays. With ``training``: shuffled each epoch and
    augmented (waveform perturbation, VTLP, SpecAugment).
    """
    ragged_waves = tf.ragged.constant([w.astype(np.float32) for w in waveforms], tf.float32)
    ragged_labels = tf.ragged.constant(labels, tf.int32, ragged_rank=1)
    ds = tf.data.Dataset.from_tensor_slices((ragged_waves, ragged_labels))
    if training:
        ds = ds.shuffle(len(waveforms), seed=seed, reshuffle_each_iteration=True)

    def encode(wave: tf.Tensor, label: tf.Tensor):
        if training:
            wave = perturb_waveform(wave, config)
        length = tf.shape(wave)[0]
        matrix = random_warp_matrix(config) if training else None
        feats, frames = log_mel(wave[None, :], length[None], config.n_mels, matrix)
        feats, frames = feats[0], frames[0]
        if training:
            feats = spec_augment(feats, frames, config)
        return {"features": feats, "frames": frames}, {
            "labels": label,
            "label_lengths": tf.shape(label)[0],
        }

    ds = ds.map(encode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if training:  # CTC needs a step per label (and one between repeats): drop what cannot fit
        ds = ds.filter(lambda x, y: _fits(x["frames"], y["labels"], config.time_stride))
    seconds = np.array([len(w) / MODEL_RATE for w in waveforms])
    edges, sizes = _bucketing(seconds, config)
    ds = ds.bucket_by_sequence_length(
        lambda x, y: x["frames"],
        bucket_boundaries=edges,
        bucket_batch_sizes=sizes,
        padded_shapes=(
            {"features": [None, config.n_mels], "frames": []},
            {"labels": [None], "label_lengths": []},
        ),
        drop_remainder=False,
    )
    return ds.prefetch(tf.data.AUTOTUNE)
