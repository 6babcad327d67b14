"""Log-mel features and the Griffin-Lim vocoder, in TensorFlow (so they live in the graph).

Frames are centred: the waveform is zero-padded by ``n_fft // 2`` on both sides, so frame
``f`` is centred on sample ``f * hop`` and ``n`` samples give ``1 + n // hop`` frames.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

LOG_FLOOR = 1e-5
SILENCE = float(np.log(LOG_FLOOR))  # log-mel of silence (also the padding value)
PEAK = 0.5  # recordings are peak-normalised to this before features are taken


class MelSpec(tf.Module):
    """Waveform <-> log-mel at one sample rate, window, hop and mel scale."""

    def __init__(self, sample_rate: int, n_fft: int, hop: int, n_mels: int, fmin: float, fmax):
        super().__init__(name="tts_mel_spec")
        self.sample_rate, self.n_fft, self.hop, self.n_mels = sample_rate, n_fft, hop, n_mels
        weights = tf.signal.linear_to_mel_weight_matrix(
            n_mels, n_fft // 2 + 1, sample_rate, fmin, fmax
        )
        self.mel_matrix = tf.constant(weights)  # [bins, mels]
        self.inverse_matrix = tf.constant(np.linalg.pinv(weights.numpy()))  # [mels, bins]

    def frames(self, n_samples: int) -> int:
        """How many frames ``n_samples`` give."""
        return 1 + n_samples // self.hop

    def _stft(self, padded: tf.Tensor) -> tf.Tensor:
        return tf.signal.stft(
            padded, self.n_fft, self.hop, self.n_fft, window_fn=tf.signal.hann_window
        )

    def log_mel(self, waveforms: tf.Tensor) -> tf.Tensor:
        """``[b, n]`` float32 -> ``[b, 1 + n // hop, n_mels]`` natural-log mel magnitudes."""
        half = self.n_fft // 2
        padded = tf.pad(waveforms, [[0, 0], [half, half]])
        mel = tf.matmul(tf.abs(self._stft(padded)), self.mel_matrix)
        return tf.math.log(tf.maximum(mel, LOG_FLOOR))

    def griffin_lim(self, log_mel: tf.Tensor, iterations: int, power: float) -> tf.Tensor:
        """``[b, F, n_mels]`` -> ``[b, F * hop]`` waveform, phase recovered by Griffin-Lim.

        Deterministic: the initial phase comes from a fixed stateless seed.
        """
        magnitude = tf.maximum(tf.matmul(tf.exp(log_mel), self.inverse_matrix), 0.0) ** power
        magnitude = tf.cast(magnitude, tf.complex64)
        phase = tf.random.stateless_uniform(
            tf.shape(magnitude), seed=[7, 11], minval=-np.pi, maxval=np.pi
        )
        spectrum = magnitude * tf.exp(tf.complex(tf.zeros_like(phase), phase))
        window = tf.signal.inverse_stft_window_fn(self.hop, forward_window_fn=tf.signal.hann_window)

        def inverse(s: tf.Tensor) -> tf.Tensor:
            return tf.signal.inverse_stft(s, self.n_fft, self.hop, self.n_fft, window_fn=window)

        def step(i: tf.Tensor, s: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            rebuilt = self._stft(inverse(s))
            unit = rebuilt / tf.cast(tf.maximum(tf.abs(rebuilt), 1e-8), tf.complex64)
            return i + 1, magnitude * unit

        _, spectrum = tf.while_loop(lambda i, _: i < iterations, step, (tf.constant(0), spectrum))
        audio = inverse(spectrum)
        half = self.n_fft // 2
        return audio[:, half : half + tf.shape(log_mel)[1] * self.hop]


def peak_normalize(waveform: np.ndarray, peak: float = PEAK) -> np.ndarray:
    """Scale to a fixed peak (recordings differ in level; the model should not care)."""
    waveform = np.asarray(waveform, np.float32)
    top = float(np.max(np.abs(waveform))) if len(waveform) else 0.0
    return waveform * (peak / top) if top > 0 else waveform
