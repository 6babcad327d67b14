"""Training-time augmentation so the model generalizes to voices and lines it never heard.

On the waveform (one FFT does speed and band): speed perturbation (resampling by a factor
near 1 changes tempo and pitch together, like a faster, higher voice), a random telephone
band (edges drawn around 300 / 3400 Hz), white noise at a random SNR. On the features:
SpecAugment frequency and time masks.
"""

from __future__ import annotations

import tensorflow as tf

from training.stt.config import STTConfig
from training.stt.features import MODEL_RATE


def _uniform(bounds: tuple[float, float]) -> tf.Tensor:
    return tf.random.uniform([], bounds[0], bounds[1])


def perturb_waveform(wave: tf.Tensor, config: STTConfig) -> tf.Tensor:
    """[n] 8 kHz samples -> speed-perturbed, band-limited, noisy [m] samples.

    FFT sizes are rounded to multiples of 1024 / 256 (fast), which also sets the exact
    speed factor (n_fft / m_fft, within ``speed_range`` of 1).
    """
    n = tf.shape(wave)[0]
    n_fft = (n + 1023) // 1024 * 1024
    factor = tf.random.uniform([], 1.0 - config.speed_range, 1.0 + config.speed_range)
    m_fft = tf.maximum(
        tf.cast(tf.round(tf.cast(n_fft, tf.float32) / factor / 256.0), tf.int32) * 256, 256
    )
    spectrum = tf.signal.rfft(tf.pad(wave, [[0, n_fft - n]]))
    bins = m_fft // 2 + 1
    keep = tf.minimum(bins, tf.shape(spectrum)[0])
    spectrum = tf.pad(spectrum[:keep], [[0, bins - keep]])
    hz = tf.cast(tf.range(bins), tf.float32) * (MODEL_RATE / tf.cast(m_fft, tf.float32))
    low, high = _uniform(config.band_low_hz), _uniform(config.band_high_hz)
    gain = tf.sigmoid((hz - low) / 40.0) * tf.sigmoid((high - hz) / 60.0)
    spectrum = spectrum * tf.cast(gain, tf.complex64)
    scale = tf.cast(m_fft, tf.float32) / tf.cast(n_fft, tf.float32)
    out = tf.signal.irfft(spectrum, fft_length=tf.reshape(m_fft, [1])) * scale
    m = tf.cast(tf.round(tf.cast(n, tf.float32) * scale), tf.int32)
    out = out[:m]
    rms = tf.sqrt(tf.reduce_mean(tf.square(out)) + 1e-10)
    snr_db = _uniform(config.noise_snr_db)
    noise = tf.random.normal(tf.shape(out)) * rms * tf.pow(10.0, -snr_db / 20.0)
    return out + noise


def _mask(length: tf.Tensor, width: int, total: tf.Tensor) -> tf.Tensor:
    """A [total] float mask with one zeroed run of up to ``width`` inside ``length``."""
    size = tf.random.uniform([], 0, width + 1, dtype=tf.int32)
    start = tf.random.uniform([], 0, tf.maximum(length - size, 1), dtype=tf.int32)
    positions = tf.range(total)
    return tf.cast((positions < start) | (positions >= start + size), tf.float32)


def spec_augment(features: tf.Tensor, frames: tf.Tensor, config: STTConfig) -> tf.Tensor:
    """[T, n_mels] features with frequency and time masks (set to 0, the normalized mean)."""
    total_t, total_f = tf.shape(features)[0], tf.shape(features)[1]
    for _ in range(config.freq_masks):
        features = features * _mask(total_f, config.freq_mask_width, total_f)[None, :]
    for _ in range(config.time_masks):
        features = features * _mask(frames, config.time_mask_frames, total_t)[:, None]
    return features
