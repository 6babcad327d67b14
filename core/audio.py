"""Audio for the simulated contact center: phone-line speech, planted defects, real speech.

* :func:`render_speech` synthesizes a customer's words with the speaker's engine
  (:mod:`core.synthesis`: espeak-ng, flite or Festival) and passes them through the call's
  telephone line (:mod:`core.telephony`: ``clean`` by default, or a degraded profile), 8 kHz
  16-bit PCM mono written with :mod:`wave`. Same text + speaker + line -> byte-identical file.
* :func:`write_defective_wav` writes the broken recordings the simulator plants.
* :func:`real_speech_utterances` lists real human read speech shipped by Debian's
  ``festvox-ru`` (one male speaker, 620 utterances, ~1.7 h, 16 kHz, UTF-8 transcripts);
  :func:`telephone_copy` turns such a recording into an 8 kHz WAV through a line.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import wave
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.splits import real_speech_split
from core.synthesis import SynthesisError, synthesize
from core.telephony import CLEAN_LINE, LineProfile, apply_line
from core.voices import REAL_SPEECH_ENGINE, Speaker, speakers

__all__ = [
    "DEFECT_KINDS",
    "FESTVOX_RU_DIR",
    "Speaker",
    "SynthesisError",
    "real_speech_utterances",
    "render_speech",
    "speakers",
    "telephone_copy",
    "write_defective_wav",
]

DEFECT_KINDS: tuple[str, ...] = ("empty", "truncated", "not_wav", "wrong_sample_rate")

#: Where Debian's festvox-ru installs its recordings and transcripts.
FESTVOX_RU_DIR = Path("/usr/share/festival/voices/russian/msu_ru_nsh_clunits")


def _seed(*parts: str) -> int:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little")


def _line_seed(line: LineProfile, *parts: str) -> int:
    """The clean line keeps the seed it always had, so its recordings keep their bytes."""
    return _seed(*parts) if line.is_clean else _seed(*parts, line.label)


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


def render_speech(
    text: str,
    speaker: Speaker,
    out_path: Path,
    sample_rate: int = 8000,
    line: LineProfile = CLEAN_LINE,
) -> float:
    """Speak ``text`` with a synthetic ``speaker`` as ``line`` carries it; return duration_s.

    Output: mono, ``sample_rate`` Hz, 16-bit PCM, peaks <= 0.8 full scale, byte-identical
    for the same text, speaker, rate and line.
    """
    samples, gain_db, src_rate = synthesize(text, speaker.id)
    if not samples.any():
        raise SynthesisError(f"{speaker.id} produced silence for {text[:40]!r}")
    seed = _line_seed(line, text, speaker.id, str(sample_rate))
    out = apply_line(samples, src_rate, sample_rate, line, seed, gain_db)
    _write_wav(Path(out_path), out, sample_rate)
    return len(out) / sample_rate


def telephone_copy(
    src: Path, out_path: Path, sample_rate: int = 8000, line: LineProfile = CLEAN_LINE
) -> float:
    """Pass a recorded 16-bit WAV (e.g. festvox-ru) through ``line``.

    Multi-channel input is mixed down. Deterministic per source file name and line; returns
    duration_s.
    """
    with wave.open(str(src), "rb") as r:
        if r.getsampwidth() != 2:
            raise ValueError(f"{src}: only 16-bit PCM is supported")
        channels, rate = r.getnchannels(), r.getframerate()
        raw = np.frombuffer(r.readframes(r.getnframes()), dtype="<i2")
    mono = raw.reshape(-1, channels).mean(axis=1)
    out = apply_line(mono, rate, sample_rate, line, _line_seed(line, "recording", Path(src).name))
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
            held_out = real_speech_split(text) != "train"
            speaker = Speaker(f"{REAL_SPEECH_ENGINE}:{utt_id}", "ru", held_out)
            items.append((text, wav_path, speaker))
    return tuple(items)


def real_speech_utterances(language: str) -> list[tuple[str, Path, Speaker]]:
    """Real recorded speech: (transcript, 16 kHz wav path, speaker), [] when not installed.

    Only Russian exists (Debian ``festvox-ru``, one male speaker). ``held_out`` marks the
    utterances whose sentence is not in the ``train`` split (:func:`core.splits.real_speech_split`:
    ``test_real`` or ``validation``).
    """
    if language != "ru":
        return []
    return list(_festvox_index(FESTVOX_RU_DIR))
