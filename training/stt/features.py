"""Waveforms -> normalized log-mel features, in TensorFlow ops (saved inside the model).

Everything runs at :data:`MODEL_RATE` (8 kHz, the telephone rate of the recordings): input
at any other rate is resampled first with one FFT per batch (an ideal low-pass when going
down). Frames are 25 ms every 10 ms; each utterance's features are normalized per mel bin
over its own frames (mean 0, variance 1), which removes gain and channel colouring.
"""

from __future__ import annotations

import tensorflow as tf

MODEL_RATE = 8000
FRAME_LENGTH = 200  # 25 ms at 8 kHz
FRAME_STEP = 80  # 10 ms
FFT_LENGTH = 256
LOWER_HZ, UPPER_HZ = 100.0, 3900.0


def fft_resample(x: tf.Tensor, new_length: tf.Tensor) -> tf.Tensor:
    """Resample ``x`` [..., n] to [..., new_length] in the frequency domain (band-limited)."""
    n = tf.shape(x)[-1]
    new_length = tf.cast(new_length, tf.int32)
    spectrum = tf.signal.rfft(x)
    bins = new_length // 2 + 1
    keep = tf.minimum(bins, tf.shape(spectrum)[-1])
    spectrum = spectrum[..., :keep]
    pad = [[0, 0]] * (len(x.shape) - 1) + [[0, bins - keep]]
    spectrum = tf.pad(spectrum, pad)
    scale = tf.cast(new_length, tf.float32) / tf.cast(n, tf.float32)
    y = tf.signal.irfft(spectrum, fft_length=tf.reshape(new_length, [1]))
    return y * scale


def resample(
    waveforms: tf.Tensor, lengths: tf.Tensor, sample_rate: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor]:
    """([b, n] at ``sample_rate``, lengths) -> ([b, m] at MODEL_RATE, lengths in samples)."""
    rate = tf.cast(sample_rate, tf.float32)
    ratio = MODEL_RATE / rate

    def convert() -> tuple[tf.Tensor, tf.Tensor]:
        n = tf.cast(tf.shape(waveforms)[-1], tf.float32)
        new_n = tf.maximum(tf.cast(tf.round(n * ratio), tf.int32), 1)
        new_lengths = tf.cast(tf.round(tf.cast(lengths, tf.float32) * ratio), tf.int32)
        return fft_resample(waveforms, new_n), tf.minimum(new_lengths, new_n)

    same = tf.equal(tf.cast(sample_rate, tf.int32), MODEL_RATE)
    return tf.cond(same, lambda: (waveforms, tf.cast(lengths, tf.int32)), convert)


def frame_count(lengths: tf.Tensor) -> tf.Tensor:
    """Frames of ``lengths`` samples (the last frame zero-padded): ceil(n / FRAME_STEP)."""
    return (tf.cast(lengths, tf.int32) + FRAME_STEP - 1) // FRAME_STEP


def mel_matrix(n_mels: int) -> tf.Tensor:
    """[FFT_LENGTH // 2 + 1, n_mels] weights from power-spectrum bins to mel bins."""
    return tf.signal.linear_to_mel_weight_matrix(
        n_mels, FFT_LENGTH // 2 + 1, MODEL_RATE, LOWER_HZ, UPPER_HZ
    )


def log_mel(
    waveforms: tf.Tensor, lengths: tf.Tensor, n_mels: int, matrix: tf.Tensor | None = None
) -> tuple[tf.Tensor, tf.Tensor]:
    """[b, n] 8 kHz waveforms -> ([b, T, n_mels] normalized log-mel, [b] valid frames).

    ``matrix`` replaces :func:`mel_matrix` (training's frequency warp,
    ``augment.warped_mel_matrix``)."""
    mask = tf.sequence_mask(lengths, tf.shape(waveforms)[1], dtype=waveforms.dtype)
    stft = tf.signal.stft(waveforms * mask, FRAME_LENGTH, FRAME_STEP, FFT_LENGTH, pad_end=True)
    power = tf.math.square(tf.abs(stft))
    matrix = mel_matrix(n_mels) if matrix is None else matrix
    mel = tf.math.log(tf.tensordot(power, matrix, 1) + 1e-6)
    frames = tf.minimum(frame_count(lengths), tf.shape(mel)[1])
    valid = tf.sequence_mask(frames, tf.shape(mel)[1], dtype=mel.dtype)[:, :, None]
    count = tf.maximum(tf.reduce_sum(valid, axis=1, keepdims=True), 1.0)
    mean = tf.reduce_sum(mel * valid, axis=1, keepdims=True) / count
    var = tf.reduce_sum(tf.square(mel - mean) * valid, axis=1, keepdims=True) / count
    return (mel - mean) * tf.math.rsqrt(var + 1e-5) * valid, frames


def features(
    waveforms: tf.Tensor, lengths: tf.Tensor, sample_rate: tf.Tensor, n_mels: int
) -> tuple[tf.Tensor, tf.Tensor]:
    """Any-rate [b, n] waveforms -> normalized log-mel [b, T, n_mels] at 100 frames/s."""
    waveforms = tf.convert_to_tensor(waveforms, tf.float32)
    resampled, new_lengths = resample(waveforms, lengths, sample_rate)
    return log_mel(resampled, new_lengths, n_mels)
