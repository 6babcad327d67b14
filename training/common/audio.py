"""WAV bytes <-> float waveforms in -1..1 (16-bit PCM, mono or mixed down)."""

from __future__ import annotations

import io
import wave

import numpy as np


def decode_wav(data: bytes) -> tuple[np.ndarray, int]:
    """(float32 samples in -1..1, sample rate) of a 16-bit PCM WAV; channels are averaged."""
    with wave.open(io.BytesIO(data), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"only 16-bit PCM is supported, got {8 * w.getsampwidth()}-bit")
        channels, rate = w.getnchannels(), w.getframerate()
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    samples = raw.reshape(-1, channels).mean(axis=1) / 32768.0
    return samples.astype(np.float32), rate


def read_wav(path: str) -> tuple[np.ndarray, int]:
    """:func:`decode_wav` of a file."""
    with open(path, "rb") as f:
        return decode_wav(f.read())


def pad_batch(waveforms: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """([b, max n] zero-padded float32, [b] int32 lengths)."""
    lengths = np.array([len(w) for w in waveforms], np.int32)
    batch = np.zeros((len(waveforms), max(int(lengths.max(initial=0)), 1)), np.float32)
    for i, w in enumerate(waveforms):
        batch[i, : len(w)] = w
    return batch, lengths


def resample_fft(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """``samples`` at ``rate`` -> float32 at ``target`` (band-limited FFT resampling)."""
    samples = np.asarray(samples, np.float32)
    if rate == target or len(samples) == 0:
        return samples
    n_out = max(1, round(len(samples) * target / rate))
    spectrum = np.fft.rfft(samples)
    bins = n_out // 2 + 1
    spectrum = np.concatenate([spectrum[:bins], np.zeros(max(0, bins - len(spectrum)), complex)])
    return (np.fft.irfft(spectrum, n=n_out) * (n_out / len(samples))).astype(np.float32)
