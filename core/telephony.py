"""The telephone line a call is heard through: a seeded profile per call and its signal chain.

A :class:`LineProfile` is either ``clean`` (the channel of a good landline: noise 30-45 dB
below the speech, 300-3400 Hz, 16-bit PCM) or degraded, and reads as a label stored with the
call (``line`` in the call export), e.g. ``gsm:band=250-3300:loss=0.020:snr=12:noise=babble:
reverb=0.30:clip=0.00``; :func:`parse_line` turns a label back into its profile.

:func:`apply_line` runs a recording through a profile, in the order a call meets them:

1. room reverberation (``reverb`` = RT60 in seconds, 0 = none): a synthetic impulse
   response, the direct sound plus exponentially decaying noise;
2. band limits (``band`` low 200-400 Hz, high 3000-3600 Hz) and resampling to 8 kHz in one FFT;
3. noise at ``snr`` dB (5-30) below the speech: ``line`` (white noise + 50 Hz hum) or
   ``babble`` (six reversed, shifted copies of the same speech: speech-shaped, unintelligible);
4. level: the peak lands at 0.45-0.8 of full scale, scaled by the speaker's gain;
   ``clip`` > 0 first cuts the waveform at that fraction of its peak (an overdriven handset);
5. a codec round trip through sox: G.711 ``ulaw`` / ``alaw`` (8-bit) or ``gsm`` (GSM 06.10);
6. packet loss (``loss``: share of 20 ms frames dropped to silence, no concealment).

Everything is drawn from a seed: the same recording, profile and seed give the same bytes.
:func:`draw_line` picks a call's profile (a share of calls stay clean).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from math import gcd

import numpy as np

#: Telephone pass band of the clean line (Hz) and the width of the band-pass mask's edges.
BAND_LOW_HZ = 300.0
BAND_HIGH_HZ = 3400.0
EDGE_HZ = 100.0
#: Output peaks land in this fraction of full scale (seeded per utterance).
PEAK_RANGE = (0.45, 0.8)
#: Clean line noise: signal-to-noise ratio range in dB (seeded per utterance).
CLEAN_SNR_DB_RANGE = (30.0, 45.0)
#: Hard ceiling on any written sample (fraction of full scale).
MAX_PEAK = 0.8
MIN_SAMPLE_RATE = 8000
CODECS: tuple[str, ...] = ("pcm", "ulaw", "alaw", "gsm")
NOISES: tuple[str, ...] = ("line", "babble")
FRAME_S = 0.02
#: Share of calls on a degraded line in the simulator (the rest on the clean line): enough for
#: a measured ``test_channel`` split and some training on degraded audio; at 0.7 the demo STT
#: preset could not learn the mix (core/voices.py, ENGINE_WEIGHTS).
DEGRADED_LINE_SHARE = 0.15
#: sox's arguments for each codec's encoded stream.
ENCODED: dict[str, list[str]] = {
    "ulaw": ["-t", "raw", "-e", "u-law", "-b", "8"],
    "alaw": ["-t", "raw", "-e", "a-law", "-b", "8"],
    "gsm": ["-t", "gsm"],
}
CLEAN = "clean"


class LineError(RuntimeError):
    """sox is missing or failed on a codec round trip."""


@dataclass(frozen=True)
class LineProfile:
    """What the line does to a call's audio (see the module docstring)."""

    codec: str = "pcm"
    band_low_hz: int = int(BAND_LOW_HZ)
    band_high_hz: int = int(BAND_HIGH_HZ)
    loss: float = 0.0
    snr_db: int = 0  # 0 on the clean line: its SNR is drawn per utterance (30-45 dB)
    noise: str = "line"
    reverb: float = 0.0
    clip: float = 0.0

    @property
    def is_clean(self) -> bool:
        return self == CLEAN_LINE

    @property
    def label(self) -> str:
        if self.is_clean:
            return CLEAN
        return (
            f"{self.codec}:band={self.band_low_hz}-{self.band_high_hz}:loss={self.loss:.3f}"
            f":snr={self.snr_db}:noise={self.noise}:reverb={self.reverb:.2f}:clip={self.clip:.2f}"
        )


CLEAN_LINE = LineProfile()

_LABEL = re.compile(
    r"^(ulaw|alaw|gsm|pcm):band=(\d+)-(\d+):loss=(\d\.\d{3}):snr=(\d+)"
    r":noise=(line|babble):reverb=(\d\.\d\d):clip=(\d\.\d\d)$"
)


def parse_line(label: str) -> LineProfile:
    """The profile a ``line`` label stands for; ValueError naming what is wrong."""
    if label == CLEAN:
        return CLEAN_LINE
    match = _LABEL.match(label)
    if not match:
        raise ValueError(f"not a line label: {label!r} (expected 'clean' or '<codec>:band=...')")
    codec, low, high, loss, snr, noise, reverb, clip = match.groups()
    profile = LineProfile(
        codec, int(low), int(high), float(loss), int(snr), noise, float(reverb), float(clip)
    )
    if not (100 <= profile.band_low_hz < profile.band_high_hz <= 3900):
        raise ValueError(f"band out of range in line label {label!r}")
    if profile.loss > 0.5 or profile.reverb > 2.0 or profile.clip >= 1.0 or profile.snr_db < 1:
        raise ValueError(f"loss, reverb, clip or snr out of range in line label {label!r}")
    return profile


def line_codec(label: str) -> str:
    """What a ``line`` label's call went through, in one word: ``clean`` or the degraded
    line's codec (``ulaw``, ``alaw``, ``gsm``, ``pcm``)."""
    return label.split(":", 1)[0]


def draw_line(seed: int, degraded_share: float) -> LineProfile:
    """A call's line: clean with probability ``1 - degraded_share``, else a drawn degraded one."""
    rng = np.random.default_rng(seed)
    if rng.random() >= degraded_share:
        return CLEAN_LINE
    codec = str(rng.choice(["ulaw", "alaw", "gsm"], p=[0.35, 0.25, 0.40]))
    loss = 0.0 if rng.random() < 0.4 else round(float(rng.uniform(0.005, 0.05)), 3)
    reverb = 0.0 if rng.random() < 0.5 else round(float(rng.uniform(0.2, 0.8)), 2)
    clip = round(float(rng.uniform(0.3, 0.6)), 2) if rng.random() < 0.1 else 0.0
    return LineProfile(
        codec=codec,
        band_low_hz=int(rng.integers(20, 41)) * 10,
        band_high_hz=int(rng.integers(60, 73)) * 50,
        loss=loss,
        snr_db=int(rng.integers(5, 31)),
        noise=str(rng.choice(NOISES, p=[0.6, 0.4])),
        reverb=reverb,
        clip=clip,
    )


# --------------------------------------------------------------------------- band and resampling


def _smooth_size(n: int) -> int:
    """The smallest 2^a 3^b 5^c >= n (fast FFT lengths)."""
    best, p2 = 2 * max(n, 1), 1
    while p2 < best:
        p3 = p2
        while p3 < best:
            p5 = p3
            while p5 < n:
                p5 *= 5
            best = min(best, p5)
            p3 *= 3
        p2 *= 2
    return best


def band_mask(freqs: np.ndarray, low_hz: float, high_hz: float) -> np.ndarray:
    """Gain 0..1 of a pass band, raised-cosine edges centred on ``low_hz`` and ``high_hz``."""
    half = EDGE_HZ / 2
    rise = np.clip((freqs - (low_hz - half)) / EDGE_HZ, 0.0, 1.0)
    fall = np.clip(((high_hz + half) - freqs) / EDGE_HZ, 0.0, 1.0)
    return (0.5 - 0.5 * np.cos(np.pi * rise)) * (0.5 - 0.5 * np.cos(np.pi * fall))


def bandpass_resample(
    x: np.ndarray, src_rate: int, dst_rate: int, low_hz: float, high_hz: float
) -> np.ndarray:
    """Band-limit ``x`` to ``low_hz``-``high_hz`` and resample it, in one zero-padded FFT."""
    g = gcd(src_rate, dst_rate)
    up, down = dst_rate // g, src_rate // g
    tail = int(0.05 * src_rate)  # room for the filter's ringing instead of wrapping around
    blocks = _smooth_size(-(-(len(x) + tail) // down))
    n_in, n_out = blocks * down, blocks * up
    spectrum = np.fft.rfft(x, n=n_in)
    n_bins = n_out // 2 + 1
    if n_bins <= len(spectrum):
        spectrum = spectrum[:n_bins]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(n_bins - len(spectrum), complex)])
    spectrum *= band_mask(np.arange(n_bins) * (dst_rate / n_out), low_hz, high_hz)
    y = np.fft.irfft(spectrum, n=n_out) * (n_out / n_in)
    return y[: round(len(x) * dst_rate / src_rate)]


# --------------------------------------------------------------------------- impairments


def reverberate(x: np.ndarray, rate: int, rt60_s: float, rng: np.random.Generator) -> np.ndarray:
    """``x`` in a room of reverberation time ``rt60_s``: direct sound + a decaying noise tail."""
    n = max(int(rt60_s * rate), 2)
    t = np.arange(n) / rate
    impulse = rng.normal(0.0, 1.0, n) * np.exp(-6.9 * t / rt60_s) * 0.25
    impulse[: int(0.0025 * rate)] = 0.0  # the first reflection arrives after 2.5 ms
    impulse[0] = 1.0
    size = _smooth_size(len(x) + n)
    wet = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(impulse, size), size)[: len(x)]
    return wet * (np.sqrt(np.mean(x**2)) / max(np.sqrt(np.mean(wet**2)), 1e-12))


def noise_like(x: np.ndarray, rate: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Unscaled noise as long as ``x``: ``line`` (white + 50 Hz hum) or ``babble``."""
    if kind == "line":
        t = np.arange(len(x)) / rate
        hum = np.sin(2 * np.pi * 50 * t + rng.uniform(0, 2 * np.pi)) * 0.6
        return rng.normal(0.0, 1.0, len(x)) + hum
    if kind == "babble":
        talkers = [np.roll(x[::-1], int(rng.integers(0, len(x)))) for _ in range(6)]
        return np.sum([rng.uniform(0.5, 1.0) * s for s in talkers], axis=0)
    raise ValueError(f"unknown noise kind {kind!r}; expected one of {NOISES}")


def add_noise(x: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``x`` plus ``noise`` scaled so their power ratio is ``snr_db``."""
    signal_power, noise_power = float(np.mean(x**2)), float(np.mean(noise**2))
    if noise_power == 0.0:
        return x.copy()
    return x + noise * np.sqrt(signal_power / noise_power * 10 ** (-snr_db / 10))


def drop_packets(
    x: np.ndarray, rate: int, loss: float, rng: np.random.Generator
) -> tuple[np.ndarray, list[int]]:
    """``x`` with each 20 ms frame lost (silenced) with probability ``loss``; the lost frames."""
    frame = int(FRAME_S * rate)
    lost = [i for i in range(len(x) // frame) if rng.random() < loss]
    y = x.copy()
    for i in lost:
        y[i * frame : (i + 1) * frame] = 0
    return y, lost


def codec_round_trip(samples: np.ndarray, rate: int, codec: str) -> np.ndarray:
    """int16 ``samples`` encoded with ``codec`` and decoded again by sox."""
    if codec == "pcm":
        return samples
    sox = shutil.which("sox")
    if sox is None:
        raise LineError("sox is not installed (run scripts/install_system_deps.sh)")
    if codec == "gsm" and rate != 8000:
        raise ValueError(f"the gsm codec needs 8000 Hz audio, got {rate}")
    if codec not in ENCODED:
        raise ValueError(f"unknown codec {codec!r}; expected one of {CODECS}")
    pcm = ["-t", "raw", "-r", str(rate), "-e", "signed", "-b", "16", "-c", "1"]
    encoded = [*ENCODED[codec], "-r", str(rate), "-c", "1"]
    raw = np.ascontiguousarray(samples, dtype="<i2").tobytes()
    decoded = _sox(
        [sox, "-q", "-D", *encoded, "-", *pcm, "-"],
        _sox([sox, "-q", "-D", *pcm, "-", *encoded, "-"], raw),
    )
    out = np.frombuffer(decoded[: len(decoded) // 2 * 2], dtype="<i2")
    if len(out) < len(samples):  # GSM works in 160-sample frames: keep the length
        out = np.concatenate([out, np.zeros(len(samples) - len(out), dtype="<i2")])
    return out[: len(samples)]


def _sox(cmd: list[str], data: bytes) -> bytes:
    proc = subprocess.run(cmd, input=data, capture_output=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise LineError(f"sox failed: {proc.stderr.decode('utf-8', 'replace').strip()[-300:]}")
    return proc.stdout


# --------------------------------------------------------------------------- the chain


def _to_int16(y: np.ndarray, peak: float) -> np.ndarray:
    y = y * (peak / max(float(np.max(np.abs(y))), 1e-12))
    limit = MAX_PEAK * 32767
    return np.clip(np.round(y * 32767), -limit, limit).astype("<i2")


def apply_line(
    x: np.ndarray,
    src_rate: int,
    dst_rate: int,
    profile: LineProfile,
    seed: int,
    gain_db: float = 0.0,
) -> np.ndarray:
    """``x`` (int16 or float samples at ``src_rate``) as heard through ``profile``: int16."""
    if dst_rate < MIN_SAMPLE_RATE:
        raise ValueError(f"sample_rate must be >= {MIN_SAMPLE_RATE} Hz, got {dst_rate}")
    rng = np.random.default_rng(seed)
    signal = np.asarray(x, dtype=np.float64) / 32768.0
    rms = float(np.sqrt(np.mean(signal**2))) if len(signal) else 0.0
    if rms == 0.0:
        raise ValueError("the audio is silent")
    level = 10 ** (gain_db / 20)
    if profile.is_clean:  # noise first, then band: today's landline channel, byte for byte
        snr_db = rng.uniform(*CLEAN_SNR_DB_RANGE)
        signal = signal + rng.normal(0.0, rms * 10 ** (-snr_db / 20), len(signal))
        y = bandpass_resample(signal, src_rate, dst_rate, BAND_LOW_HZ, BAND_HIGH_HZ)
        return _to_int16(y, rng.uniform(*PEAK_RANGE) * level)
    if profile.reverb > 0:
        signal = reverberate(signal, src_rate, profile.reverb, rng)
    y = bandpass_resample(signal, src_rate, dst_rate, profile.band_low_hz, profile.band_high_hz)
    y = add_noise(y, noise_like(y, dst_rate, profile.noise, rng), profile.snr_db)
    peak = rng.uniform(*PEAK_RANGE) * level
    if profile.clip > 0:
        ceiling = profile.clip * float(np.max(np.abs(y)))
        y = np.clip(y, -ceiling, ceiling)
    coded = codec_round_trip(_to_int16(y, peak), dst_rate, profile.codec)
    return drop_packets(coded, dst_rate, profile.loss, rng)[0]
