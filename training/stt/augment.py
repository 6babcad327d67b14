"""Training-time augmentation so the model generalizes to voices and lines it never heard.

On the waveform (one FFT does speed and band): speed perturbation (resampling by a factor
near 1 changes tempo and pitch together, like a faster, higher voice), a random telephone
band (edges drawn around 300 / 3400 Hz), white noise at a random SNR. On the spectrum:
vocal tract length perturbation (VTLP, Jaitly & Hinton 2013: frequencies scaled by a factor
near 1, formants move as in a shorter or longer vocal tract, tempo and pitch stay). On the
features: SpecAugment frequency and time masks.
"""

from __future__ import annotations

import tensorflow as tf

from training.stt.config import STTConfig
from training.stt.features import FFT_LENGTH, MODEL_RATE, mel_matrix

#: VTLP's boundary: frequencies below it scale by the warp factor, those above map linearly
#: onto the rest of the band, so the Nyquist frequency stays where it is (Jaitly & Hinton's
#: F_hi, as a share of the Nyquist frequency; 3.4 kHz, the telephone band's top, at 8 kHz).
VTLP_BOUNDARY = 0.85


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


def vtlp_source_bins(factor: tf.Tensor) -> tf.Tensor:
    """[FFT_LENGTH // 2 + 1] fractional source bin of each warped spectrum bin: bin ``g``
    reads frequency ``g / factor`` below the boundary (``VTLP_BOUNDARY * min(factor, 1)``
    of Nyquist), and above it the segment that ends at Nyquist (the inverse of Jaitly &
    Hinton's piecewise-linear warp)."""
    nyquist = float(FFT_LENGTH // 2)
    bins = tf.range(FFT_LENGTH // 2 + 1, dtype=tf.float32)
    knee = VTLP_BOUNDARY * nyquist * tf.minimum(factor, 1.0)  # warped side of the knee
    knee_source = knee / factor
    upper = nyquist - (nyquist - bins) * (nyquist - knee_source) / (nyquist - knee)
    return tf.clip_by_value(tf.where(bins <= knee, bins / factor, upper), 0.0, nyquist)


def warped_mel_matrix(factor: tf.Tensor, n_mels: int) -> tf.Tensor:
    """[FFT_LENGTH // 2 + 1, n_mels]: the mel matrix reading a VTLP-warped power spectrum
    (each warped bin linearly interpolated between its two source bins)."""
    source = vtlp_source_bins(factor)
    below = tf.floor(source)
    weight = source - below
    size = FFT_LENGTH // 2 + 1
    interpolate = (
        tf.one_hot(tf.cast(below, tf.int32), size, axis=0) * (1.0 - weight)
        + tf.one_hot(tf.minimum(tf.cast(below, tf.int32) + 1, size - 1), size, axis=0) * weight
    )  # [source bin, warped bin]
    return tf.matmul(interpolate, mel_matrix(n_mels))


def random_warp_matrix(config: STTConfig) -> tf.Tensor | None:
    """A warped mel matrix with a factor drawn within ``vtlp_range`` of 1 (None when 0)."""
    if config.vtlp_range <= 0:
        return None
    factor = tf.random.uniform([], 1.0 - config.vtlp_range, 1.0 + config.vtlp_range)
    return warped_mel_matrix(factor, config.n_mels)


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
