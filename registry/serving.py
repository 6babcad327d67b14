# ruff: noqa: RUF001 (Russian reference text uses Cyrillic letters on purpose)
"""Run a loaded model of any family: reference inputs (smoke test) and one user input.

The families' own helpers do the work (``training.<family>.export``); this module only maps
a user's INPUT (text, JSON request or WAV path) onto them and the result back to JSON.
"""

from __future__ import annotations

import json
import re
import wave
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from registry.errors import RegistryError
from training.families import family

REFERENCE_TEXTS = [
    "Заблокируйте карту 4321, пожалуйста.",
    "What's the dollar exchange rate?",
    "Где ваш офис в Казани?",
    "Transfer 5,000 rubles to <PERSON> from my savings account.",
]
REFERENCE_REQUESTS = [
    {"language": "ru", "intent": "block_card", "slots": {"card_last4": "4321"}},
    {"language": "en", "intent": "exchange_rate", "slots": {"currency": "USD"}},
]
REFERENCE_SAMPLE_RATE = 8000
#: What the STT smoke test hears: a held-out espeak voice per language on a phone line.
REFERENCE_SPEECH = [
    ("ru", "Заблокируйте, пожалуйста, мою карту."),
    ("en", "What is the dollar exchange rate today?"),
]


def language_of(text: str) -> str:
    """``ru`` when the text has Cyrillic letters, else ``en``."""
    return "ru" if re.search(r"[А-Яа-яЁё]", text) else "en"


def reference_waveforms() -> list[np.ndarray]:
    """Two telephone-band test signals (a voiced-like chirp with noise), 1 s and 2 s."""
    rng = np.random.default_rng(0)
    waves = []
    for seconds in (1.0, 2.0):
        t = np.arange(int(seconds * REFERENCE_SAMPLE_RATE)) / REFERENCE_SAMPLE_RATE
        tone = 0.3 * np.sin(2 * np.pi * (180 + 120 * t) * t) * (1 + np.sin(2 * np.pi * 3 * t))
        waves.append((tone / 2 + 0.01 * rng.standard_normal(t.size)).astype(np.float32))
    return waves


def reference_speech(workdir: Path) -> tuple[list[np.ndarray], list[str], list[str]]:
    """:data:`REFERENCE_SPEECH` spoken by held-out voices (rendered into ``workdir``):
    waveforms, their transcripts and languages. Deterministic."""
    from core.audio import render_speech
    from core.voices import speakers

    waves, texts, languages = [], [], []
    for language, text in REFERENCE_SPEECH:
        speaker = next(s for s in speakers(language) if s.held_out)
        path = workdir / f"reference-{language}.wav"
        render_speech(text, speaker, path, REFERENCE_SAMPLE_RATE)
        waves.append(read_wav(path)[0])
        texts.append(text)
        languages.append(language)
    return waves, texts, languages


def read_wav(path: Path | BinaryIO) -> tuple[np.ndarray, int]:
    """A mono float32 waveform in [-1, 1] and its sample rate (8/16/32-bit PCM WAV), from a
    file path or an open binary file."""
    with wave.open(path if hasattr(path, "read") else str(path), "rb") as wav:
        width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    dtype = {1: np.uint8, 2: np.int16, 4: np.int32}.get(width)
    if dtype is None:
        source = path if isinstance(path, Path | str) else "WAV input"
        raise RegistryError(f"{source}: {8 * width}-bit WAV is not supported")
    data = np.frombuffer(frames, dtype).astype(np.float32)
    data = (data - 128) / 128 if width == 1 else data / float(np.iinfo(dtype).max)
    return data.reshape(-1, channels).mean(axis=1), rate


def write_wav(path: Path, waveform: np.ndarray, sample_rate: int) -> Path:
    """16-bit PCM mono WAV."""
    pcm = (np.clip(waveform, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(int(sample_rate))
        out.writeframes(pcm.tobytes())
    return path


def run_reference(name: str, model: Any, speech: tuple | None = None) -> Any:
    """The family's reference inputs through ``model`` (JSON-able summary of the outputs).

    STT hears ``speech`` (:func:`reference_speech`) when given, else synthetic test tones.
    """
    export = family(name).module("export")
    if name == "nlu":
        return [p["intent"] for p in export.predict(model, REFERENCE_TEXTS)]
    if name == "nlg":
        return export.predict(model, REFERENCE_REQUESTS)
    if name == "stt":
        if speech is None:
            return export.transcribe(model, reference_waveforms(), REFERENCE_SAMPLE_RATE)
        waves, texts, languages = speech
        heard = export.transcribe(model, waves, REFERENCE_SAMPLE_RATE)
        return {"transcripts": list(heard), "references": texts, "languages": languages}
    if name == "tts":
        texts = REFERENCE_TEXTS[:2]
        waves, rate = export.synthesize(model, texts, [language_of(t) for t in texts])
        return {
            "sample_rate": int(rate),
            "samples": [len(w) for w in waves],
            "rms": [float(np.sqrt(np.mean(np.square(w)))) if len(w) else 0.0 for w in waves],
            "finite": [bool(np.isfinite(w).all()) for w in waves],
        }
    raise RegistryError(f"unknown family {name!r}")


def predict_one(name: str, model: Any, value: str, out: Path | None = None) -> Any:
    """One user input through ``model``: text (NLU, TTS), JSON request (NLG), WAV path (STT)."""
    export = family(name).module("export")
    if name == "nlu":
        return export.predict(model, [value])[0]
    if name == "nlg":
        try:
            request = json.loads(value)
        except json.JSONDecodeError as error:
            raise RegistryError(
                'NLG input is a JSON request: {"language": "ru", "intent": ..., "slots": {...}}'
            ) from error
        return {"request": request, "text": export.predict(model, [request])[0]}
    if name == "stt":
        path = Path(value)
        if not path.is_file():
            raise RegistryError(f"STT input is a WAV file; {value} does not exist")
        waveform, rate = read_wav(path)
        return {"input": str(path), "text": export.transcribe(model, [waveform], rate)[0]}
    if name == "tts":
        waves, rate = export.synthesize(model, [value], [language_of(value)])
        target = write_wav(Path(out or "tts.wav"), waves[0], int(rate))
        return {"text": value, "wav": str(target), "seconds": len(waves[0]) / int(rate)}
    raise RegistryError(f"unknown family {name!r}")
