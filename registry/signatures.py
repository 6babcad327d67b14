"""What each family's MLflow model takes and answers: JSON-friendly signatures and examples.

Every input is a table, one row per request, so ``mlflow models serve`` accepts it as
``{"dataframe_records": [{...}, ...]}``; every answer is a list with one JSON object per row.

* **nlu**  ``{"text": str}`` -> ``{"intent", "confidence", "slots": {slot: words},
  "tokens", "tags"}``.
* **nlg**  ``{"language": "ru"|"en", "intent": str, "slots": {slot: value}, "facts":
  {name: text}}`` (``slots`` and ``facts`` optional) -> ``{"text": str}``.
* **stt**  either ``{"audio_base64": str}`` (a WAV file, base64: 8/16/32-bit PCM, any rate)
  or ``{"waveform": [float, ...], "sample_rate": int}`` (mono samples in -1..1; the rate
  defaults to 8000), each with an optional ``"language": "ru"|"en"`` (the caller's choice:
  the transcript is then written only in that language's letters) -> ``{"text": str}``
  (normalized transcript).
* **tts**  ``{"text": str, "language": "ru"|"en"}`` (``language`` optional: Cyrillic
  letters mean ``ru``) -> ``{"sample_rate", "seconds", "wav_base64"}`` (16-bit PCM WAV);
  with the parameter ``{"format": "waveform"}`` -> ``{"sample_rate", "seconds",
  "waveform": [float, ...]}`` instead.
"""

from __future__ import annotations

import base64
import io
import wave
from typing import Any

import numpy as np
from mlflow.models import ModelSignature
from mlflow.types.schema import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    Map,
    ParamSchema,
    ParamSpec,
    Schema,
)

from registry.errors import RegistryError
from registry.serving import REFERENCE_REQUESTS, REFERENCE_SAMPLE_RATE, REFERENCE_TEXTS

TTS_FORMATS = ("wav", "waveform")


def wav_base64(waveform: np.ndarray, sample_rate: int) -> str:
    """A mono waveform in -1..1 as a base64 16-bit PCM WAV file."""
    pcm = (np.clip(np.asarray(waveform, np.float32), -1, 1) * 32767).astype(np.int16)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(int(sample_rate))
        out.writeframes(pcm.tobytes())
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _chirp(seconds: float) -> np.ndarray:
    """A short telephone-band test tone (deterministic)."""
    t = np.arange(int(seconds * REFERENCE_SAMPLE_RATE)) / REFERENCE_SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * (180 + 120 * t) * t)).astype(np.float32)


def input_example(family: str) -> list[dict[str, Any]]:
    """Rows a user could send, stored with the model (``input_example.json``)."""
    if family == "nlu":
        return [{"text": text} for text in REFERENCE_TEXTS[:2]]
    if family == "nlg":
        return [dict(request) for request in REFERENCE_REQUESTS]
    if family == "stt":
        return [{"audio_base64": wav_base64(_chirp(0.5), REFERENCE_SAMPLE_RATE)}]
    if family == "tts":
        return [
            {"text": "Ваша карта заблокирована.", "language": "ru"},
            {"text": "Your card is blocked.", "language": "en"},
        ]
    raise RegistryError(f"no MLflow signature for family {family!r}")


def signature(family: str) -> ModelSignature:
    """The family's input schema (enforced by MLflow), output schema and parameters."""
    string, number = DataType.string, DataType.double
    if family == "nlu":
        inputs = Schema([ColSpec(string, "text")])
        outputs = Schema(
            [
                ColSpec(string, "intent"),
                ColSpec(number, "confidence"),
                ColSpec(Map(string), "slots"),
                ColSpec(Array(string), "tokens"),
                ColSpec(Array(string), "tags"),
            ]
        )
        return ModelSignature(inputs, outputs)
    if family == "nlg":
        inputs = Schema(
            [
                ColSpec(string, "language"),
                ColSpec(string, "intent"),
                ColSpec(AnyType(), "slots", required=False),
                ColSpec(AnyType(), "facts", required=False),
            ]
        )
        return ModelSignature(inputs, Schema([ColSpec(string, "text")]))
    if family == "stt":
        inputs = Schema(
            [
                ColSpec(string, "audio_base64", required=False),
                # Any (checked when decoded): rows may mix WAV files and sample lists, and
                # MLflow refuses the missing values of the columns a row leaves out in an
                # array or integer column (and an integer rate in a double one)
                ColSpec(AnyType(), "waveform", required=False),
                ColSpec(AnyType(), "sample_rate", required=False),
                ColSpec(string, "language", required=False),
            ]
        )
        return ModelSignature(inputs, Schema([ColSpec(string, "text")]))
    if family == "tts":
        inputs = Schema([ColSpec(string, "text"), ColSpec(string, "language", required=False)])
        outputs = Schema(
            [
                ColSpec(DataType.long, "sample_rate"),
                ColSpec(number, "seconds"),
                ColSpec(string, "wav_base64", required=False),
                ColSpec(Array(DataType.float), "waveform", required=False),
            ]
        )
        params = ParamSchema([ParamSpec("format", string, TTS_FORMATS[0])])
        return ModelSignature(inputs, outputs, params)
    raise RegistryError(f"no MLflow signature for family {family!r}")
