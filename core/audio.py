"""Audio for the simulated contact center: telephone-band speech, planted defects, real speech.

* :func:`render_speech` synthesizes a customer's words with espeak-ng (one process per
  utterance, text on stdin as UTF-8) and passes them through a telephone channel in numpy:
  a little seeded background noise, one FFT that both band-limits to 300-3400 Hz and
  resamples (22050 Hz -> 8000 Hz by default), peak normalisation well below full scale,
  16-bit PCM mono written with :mod:`wave`. Same text + speaker -> byte-identical file.
* :func:`write_defective_wav` writes the broken recordings the simulator plants.
* :func:`real_speech_utterances` lists real human read speech shipped by Debian's
  ``festvox-ru`` (one male speaker, 620 utterances, ~1.7 h, 16 kHz, UTF-8 transcripts);
  :func:`telephone_copy` turns such a recording into an 8 kHz telephone-band WAV.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import struct
import subprocess
import wave
from functools import lru_cache
from math import gcd
from pathlib import Path

import numpy as np

from core.voices import Speaker, parse_espeak_id, speakers

__all__ = [
    "DEFECT_KINDS",
    "FESTVOX_RU_DIR",
    "Speaker",
    "real_speech_utterances",
    "render_speech",
    "speakers",
    "telephone_copy",
    "write_defective_wav",
]

#: Telephone pass band (Hz) and the width of the raised-cosine edges of the band-pass mask.
BAND_LOW_HZ = 300.0
BAND_HIGH_HZ = 3400.0
EDGE_HZ = 100.0
#: Output peaks land in this fraction of full scale (seeded per utterance): never clipped.
PEAK_RANGE = (0.45, 0.8)
#: Background noise: signal-to-noise ratio range in dB (seeded per utterance).
SNR_DB_RANGE = (30.0, 45.0)
#: Hard ceiling on any written sample (fraction of full scale).
MAX_PEAK = 0.8

ESPEAK_TIMEOUT_S = 60.0
MIN_SAMPLE_RATE = 8000

DEFECT_KINDS: tuple[str, ...] = ("empty", "truncated", "not_wav", "wrong_sample_rate")

#: Where Debian's festvox-ru installs its recordings and transcripts.
FESTVOX_RU_DIR = Path("/usr/share/festival/voices/russian/msu_ru_nsh_clunits")
#: One utterance in five (by a hash of its id) is held out for test splits.
REAL_HELD_OUT_MODULUS = 5


class SynthesisError(RuntimeError):
    """espeak-ng is missing or failed to produce audio."""


# --------------------------------------------------------------------------- synthesis


def _espeak_binary() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise SynthesisError("espeak-ng is not installed (run scripts/install_system_deps.sh)")
    return path


def _espeak_raw(text: str, voice: str, speed: int, pitch: int) -> tuple[np.ndarray, int]:
    """Run espeak-ng once; return its mono int16 samples and their sample rate."""
    cmd = [_espeak_binary(), "-v", voice, "-s", str(speed), "-p", str(pitch)]
    cmd += ["-b", "1", "--stdin", "--stdout"]
    proc = subprocess.run(
        cmd,
        input=text.encode("utf-8"),
        capture_output=True,
        timeout=ESPEAK_TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise SynthesisError(f"espeak-ng failed for voice {voice!r}: {err}")
    return _parse_stream_wav(proc.stdout)


def _parse_stream_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Samples and rate of a streamed 16-bit mono WAV (its size fields may be bogus)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise SynthesisError("espeak-ng did not write a WAV stream")
    pos, rate = 12, 0
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if chunk_id == b"fmt ":
            channels, rate = struct.unpack("<HI", data[pos + 10 : pos + 16])
            if channels != 1:
                raise SynthesisError(f"espeak-ng wrote {channels} channels")
        elif chunk_id == b"data":
            body = data[pos + 8 :]
            body = body[: len(body) // 2 * 2]
            return np.frombuffer(body, dtype="<i2"), rate
        pos += 8 + size
    raise SynthesisError("espeak-ng WAV stream has no data chunk")


# --------------------------------------------------------------------------- channel


def _seed(*parts: str) -> int:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little")


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


def _band_mask(freqs: np.ndarray) -> np.ndarray:
    """Gain 0..1 of the telephone band, raised-cosine edges centred on 300 and 3400 Hz."""
    half = EDGE_HZ / 2
    rise = np.clip((freqs - (BAND_LOW_HZ - half)) / EDGE_HZ, 0.0, 1.0)
    fall = np.clip(((BAND_HIGH_HZ + half) - freqs) / EDGE_HZ, 0.0, 1.0)
    return (0.5 - 0.5 * np.cos(np.pi * rise)) * (0.5 - 0.5 * np.cos(np.pi * fall))


def _bandpass_resample(x: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Band-limit ``x`` to the telephone band and resample it, in one zero-padded FFT."""
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
    spectrum *= _band_mask(np.arange(n_bins) * (dst_rate / n_out))
    y = np.fft.irfft(spectrum, n=n_out) * (n_out / n_in)
    return y[: round(len(x) * dst_rate / src_rate)]


def _telephone(x: np.ndarray, src_rate: int, dst_rate: int, seed: int) -> np.ndarray:
    """Noise, band-pass + resample, peak normalisation: int16 samples at ``dst_rate``."""
    if dst_rate < MIN_SAMPLE_RATE:
        raise ValueError(f"sample_rate must be >= {MIN_SAMPLE_RATE} Hz, got {dst_rate}")
    rng = np.random.default_rng(seed)
    signal = x.astype(np.float64) / 32768.0
    rms = float(np.sqrt(np.mean(signal**2))) if len(signal) else 0.0
    if rms == 0.0:
        raise SynthesisError("synthesized audio is silent")
    snr_db = rng.uniform(*SNR_DB_RANGE)
    signal = signal + rng.normal(0.0, rms * 10 ** (-snr_db / 20), len(signal))
    y = _bandpass_resample(signal, src_rate, dst_rate)
    y *= rng.uniform(*PEAK_RANGE) / float(np.max(np.abs(y)))
    limit = MAX_PEAK * 32767
    return np.clip(np.round(y * 32767), -limit, limit).astype("<i2")


def _write_wav(out_path: Path, samples: np.ndarray, rate: int, channels: int = 1) -> None:
    """Write 16-bit PCM atomically (temp file + rename), creating parent directories."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.{os.getpid()}.tmp")
    try:
        with wave.open(str(tmp), "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)


def render_speech(text: str, speaker: Speaker, out_path: Path, sample_rate: int = 8000) -> float:
    """Speak ``text`` with an espeak ``speaker`` as a phone line carries it; return duration_s.

    Output: mono, ``sample_rate`` Hz, 16-bit PCM, 300-3400 Hz, peaks <= 0.8 full scale,
    byte-identical for the same text, speaker and rate.
    """
    if not text.strip():
        raise ValueError("text is empty")
    voice = parse_espeak_id(speaker.id)
    samples, src_rate = _espeak_raw(text, voice.voice, voice.speed, voice.pitch)
    out = _telephone(samples, src_rate, sample_rate, _seed(text, speaker.id, str(sample_rate)))
    _write_wav(Path(out_path), out, sample_rate)
    return len(out) / sample_rate


def telephone_copy(src: Path, out_path: Path, sample_rate: int = 8000) -> float:
    """Pass a recorded 16-bit WAV (e.g. festvox-ru) through the telephone channel.

    Multi-channel input is mixed down. Deterministic per source file name; returns duration_s.
    """
    with wave.open(str(src), "rb") as r:
        if r.getsampwidth() != 2:
            raise ValueError(f"{src}: only 16-bit PCM is supported")
        channels, rate = r.getnchannels(), r.getframerate()
        raw = np.frombuffer(r.readframes(r.getnframes()), dtype="<i2")
    mono = raw.reshape(-1, channels).mean(axis=1)
    out = _telephone(mono, rate, sample_rate, _seed("recording", Path(src).name))
    _write_wav(Path(out_path), out, sample_rate)
    return len(out) / sample_rate


# --------------------------------------------------------------------------- defects


def _tone(rate: int, seconds: float, channels: int, seed: int) -> np.ndarray:
    """A deterministic speech-like test signal (harmonics + noise), int16, interleaved."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    f0 = 120 + 20 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    x = sum(np.sin(k * phase) / k for k in range(1, 8)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    x = 0.5 * x / np.max(np.abs(x)) + rng.normal(0, 0.01, len(t))
    frames = np.repeat(x[:, None], channels, axis=1)
    return np.round(frames * 32767).astype("<i2").reshape(-1)


def _wav_bytes(samples: np.ndarray, rate: int, channels: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def _defect_bytes(kind: str, seed: int) -> bytes:
    if kind == "empty":
        return b""
    if kind == "truncated":
        full = _wav_bytes(_tone(8000, 2.0, 1, seed), 8000, 1)
        return full[: 44 + (len(full) - 44) // 3]  # header claims 2 s, a third is there
    if kind == "not_wav":
        rng = np.random.default_rng(seed)
        return b"<html><body>504 Gateway Timeout</body></html>\n" + rng.bytes(512)
    if kind == "wrong_sample_rate":
        return _wav_bytes(_tone(44100, 1.5, 2, seed), 44100, 2)
    raise ValueError(f"unknown defect kind {kind!r}; expected one of {DEFECT_KINDS}")


def write_defective_wav(kind: str, out_path: Path) -> None:
    """Write a broken recording: "empty", "truncated", "not_wav" or "wrong_sample_rate".

    * empty: 0 bytes; * truncated: a valid 8 kHz header whose data size claims more than
      the file holds; * not_wav: an HTML error page plus random bytes; * wrong_sample_rate:
      a valid 44.1 kHz stereo WAV (breaks the 8 kHz mono contract).
    Deterministic per kind and file name.
    """
    out_path = Path(out_path)
    data = _defect_bytes(kind, _seed("defect", kind, out_path.name))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(data)


# --------------------------------------------------------------------------- real speech

_TXT_LINE = re.compile(r'^\(\s*(\S+)\s+"(.*)"\s*\)\s*$')


def _clean_transcript(text: str) -> str:
    """Drop festvox stress marks ('+') and squeeze whitespace."""
    return " ".join(text.replace("+", "").split())


def _real_held_out(utt_id: str) -> bool:
    return _seed("festvox-ru", utt_id) % REAL_HELD_OUT_MODULUS == 0


@lru_cache(maxsize=4)
def _festvox_index(root: Path) -> tuple[tuple[str, Path, Speaker], ...]:
    done = root / "etc" / "txt.done.data"
    if not done.is_file():
        return ()
    items = []
    for line in done.read_text(encoding="utf-8").splitlines():
        match = _TXT_LINE.match(line.strip())
        if not match:
            continue
        utt_id, text = match.group(1), _clean_transcript(match.group(2))
        wav_path = root / "wav" / f"{utt_id}.wav"
        if text and wav_path.is_file():
            speaker = Speaker(f"festvox-ru:{utt_id}", "ru", _real_held_out(utt_id))
            items.append((text, wav_path, speaker))
    return tuple(items)


def real_speech_utterances(language: str) -> list[tuple[str, Path, Speaker]]:
    """Real recorded speech: (transcript, 16 kHz wav path, speaker), [] when not installed.

    Only Russian exists (Debian ``festvox-ru``, one male speaker). About 20 % of the
    utterances, chosen by a hash of the utterance id, are ``held_out`` for test splits.
    """
    if language != "ru":
        return []
    return list(_festvox_index(FESTVOX_RU_DIR))
