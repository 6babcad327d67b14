"""A caller's WAV upload -> a mono float32 waveform at the models' rate, or a one-line refusal.

Accepts RIFF/WAVE PCM of 8, 16, 24 or 32 bits, any channel count (mixed down to mono) and
any sample rate (resampled with a polyphase filter, ``scipy.signal.resample_poly``). Refuses
what no model should see, with the reason: not a WAV, a corrupt header, a compressed or
floating-point encoding, no samples, a file or a duration over the limits.
"""

from __future__ import annotations

import io
import math
import wave
from dataclasses import dataclass

import numpy as np
from scipy.signal import resample_poly

from core.errors import InputError

#: The rate the STT models are trained on (8 kHz telephone band).
MODEL_SAMPLE_RATE = 8000
MIN_SAMPLE_RATE = 4000
MAX_SAMPLE_RATE = 192_000


class BadAudio(InputError):
    """An upload the API refuses (answered with 400/413/422 and this message)."""


@dataclass(frozen=True)
class AudioLimits:
    """How much audio one turn may carry."""

    max_bytes: int = 4 * 1024 * 1024
    max_seconds: float = 30.0


@dataclass(frozen=True)
class DecodedAudio:
    """A waveform ready for STT and what the upload was."""

    waveform: np.ndarray  # float32 mono in [-1, 1] at MODEL_SAMPLE_RATE
    source_rate: int
    source_channels: int
    source_bits: int

    @property
    def seconds(self) -> float:
        return len(self.waveform) / MODEL_SAMPLE_RATE


_DTYPES = {1: np.uint8, 2: np.int16, 4: np.int32}


def _pcm(frames: bytes, width: int) -> np.ndarray:
    """Interleaved PCM bytes -> float32 samples in [-1, 1]."""
    if width == 3:  # 24-bit little-endian: widen to int32 with the sign in the top byte
        raw = np.frombuffer(frames, np.uint8).reshape(-1, 3)
        wide = np.zeros((raw.shape[0], 4), np.uint8)
        wide[:, 1:] = raw
        return wide.view("<i4").reshape(-1).astype(np.float32) / 2.0**31
    data = np.frombuffer(frames, _DTYPES[width]).astype(np.float32)
    if width == 1:
        return (data - 128.0) / 128.0
    return data / float(2 ** (8 * width - 1))


def resample(waveform: np.ndarray, rate: int, target: int = MODEL_SAMPLE_RATE) -> np.ndarray:
    """``waveform`` at ``rate`` -> at ``target`` (polyphase, anti-aliased)."""
    if rate == target:
        return waveform.astype(np.float32, copy=False)
    common = math.gcd(rate, target)
    out = resample_poly(waveform, target // common, rate // common)
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def decode_wav(data: bytes, limits: AudioLimits | None = None) -> DecodedAudio:
    """The upload ``data`` as :class:`DecodedAudio`; :class:`BadAudio` names what is wrong."""
    limits = limits or AudioLimits()
    if not data:
        raise BadAudio("audio: the file is empty")
    if len(data) > limits.max_bytes:
        raise BadAudio(f"audio: {len(data)} bytes is over the limit of {limits.max_bytes} bytes")
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise BadAudio("audio: not a WAV file (no RIFF/WAVE header)")
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            count = wav.getnframes()
            frames = wav.readframes(count)
    except wave.Error as error:
        raise BadAudio(f"audio: unsupported or corrupt WAV ({error}); send PCM WAV") from None
    except EOFError:
        raise BadAudio("audio: corrupt WAV (the file ends inside its header)") from None
    if width not in (1, 2, 3, 4):
        raise BadAudio(f"audio: {8 * width}-bit samples are not supported (8/16/24/32-bit PCM)")
    if channels < 1:
        raise BadAudio("audio: the WAV header declares no channels")
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise BadAudio(
            f"audio: sample rate {rate} Hz is outside {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz"
        )
    usable = len(frames) - len(frames) % (width * channels)
    if usable == 0:
        raise BadAudio("audio: the WAV holds no samples")
    seconds = usable / (width * channels) / rate
    if seconds > limits.max_seconds:
        raise BadAudio(f"audio: {seconds:.1f} s is over the limit of {limits.max_seconds:g} s")
    samples = _pcm(frames[:usable], width).reshape(-1, channels).mean(axis=1)
    return DecodedAudio(resample(samples, rate), rate, channels, 8 * width)
