"""The MLflow ``python_function`` flavor of every family: the exported SavedModel behind
JSON-friendly rows (schemas in ``registry.signatures``).

    model = mlflow.pyfunc.load_model("models:/voicebot-nlu@champion")
    model.predict([{"text": "Где ваш офис в Казани?"}])   # -> [{"intent": ..., ...}]

The SavedModel is the model's artifact ``saved_model`` and is run by the family's own helpers
(``training.<family>.export``), exactly as ``voiceops predict`` runs it. The model is stored
as code (``registry.pyfunc_code``, MLflow's models-from-code), not as a pickle. Loading warms the
model up on the stored input example, so the first request of a served model is not the one
that traces the graph. An imported version's ``saved_model`` artifact holds its engine's files
and is loaded by ``registry.external.load_artifact`` (PocketSphinx behind the STT interface).
The VoiceOps code must be importable where the model is loaded
(``mlflow models serve --env-manager local`` from the project's environment).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
from collections import defaultdict
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd

from registry.errors import RegistryError
from registry.external import load_artifact
from registry.serving import REFERENCE_SAMPLE_RATE, language_of, read_wav
from registry.signatures import TTS_FORMATS, input_example, wav_base64
from training.families import family

SAVED_MODEL = "saved_model"
FAMILY_KEY = "family"

Rows = list[dict[str, Any]]


def _given(value: Any) -> bool:
    """A cell that holds a value (pandas fills absent optional columns with NaN or None)."""
    if value is None:
        return False
    return not (isinstance(value, float) and math.isnan(value))


def _mapping(value: Any, column: str) -> dict[str, Any]:
    """A JSON object cell (a dict, or its JSON text); empty when absent."""
    if not _given(value):
        return {}
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, dict):
        raise RegistryError(f"{column} must be a JSON object, got {type(value).__name__}")
    return value


def _records(model_input: Any) -> Rows:
    if isinstance(model_input, pd.DataFrame):
        return model_input.to_dict(orient="records")
    if isinstance(model_input, dict):
        return [model_input]
    return list(model_input)


def predict_nlu(model: Any, rows: Rows) -> Rows:
    found = family("nlu").module("export").predict(model, [str(r["text"]) for r in rows])
    return [{k: v for k, v in result.items() if k != "text"} for result in found]


def predict_nlg(model: Any, rows: Rows) -> Rows:
    requests = [
        {
            "language": str(r["language"]),
            "intent": str(r["intent"]),
            "slots": _mapping(r.get("slots"), "slots"),
            "facts": _mapping(r.get("facts"), "facts") or None,
        }
        for r in rows
    ]
    texts = family("nlg").module("export").predict(model, requests)
    return [{"text": text} for text in texts]


def _waveform(row: dict[str, Any]) -> tuple[np.ndarray, int]:
    """The row's audio: a base64 WAV, or samples with their rate."""
    if _given(row.get("audio_base64")):
        try:
            data = base64.b64decode(str(row["audio_base64"]), validate=True)
        except binascii.Error as error:
            raise RegistryError(f"audio_base64 is not base64: {error}") from None
        return read_wav(io.BytesIO(data))
    if _given(row.get("waveform")):
        rate = int(row["sample_rate"]) if _given(row.get("sample_rate")) else None
        return np.asarray(row["waveform"], np.float32), rate or REFERENCE_SAMPLE_RATE
    raise RegistryError("an STT row needs audio_base64 (a WAV file) or waveform + sample_rate")


def predict_stt(model: Any, rows: Rows) -> Rows:
    transcribe = family("stt").module("export").transcribe
    audio = [_waveform(row) for row in rows]
    by_rate: dict[int, list[int]] = defaultdict(list)
    for i, (_, rate) in enumerate(audio):
        by_rate[rate].append(i)
    texts = [""] * len(rows)
    languages = [str(r["language"]) if _given(r.get("language")) else None for r in rows]
    for rate, indices in by_rate.items():
        waves = [audio[i][0] for i in indices]
        heard = transcribe(model, waves, rate, languages=[languages[i] for i in indices])
        for i, text in zip(indices, heard, strict=True):
            texts[i] = text
    return [{"text": text} for text in texts]


def predict_tts(model: Any, rows: Rows, output: str = TTS_FORMATS[0]) -> Rows:
    if output not in TTS_FORMATS:
        raise RegistryError(f"format must be one of {', '.join(TTS_FORMATS)}, not {output!r}")
    texts = [str(r["text"]) for r in rows]
    languages = [
        str(r["language"]) if _given(r.get("language")) else language_of(text)
        for r, text in zip(rows, texts, strict=True)
    ]
    waves, rate = family("tts").module("export").synthesize(model, texts, languages)
    results = []
    for wave in waves:
        result: dict[str, Any] = {"sample_rate": int(rate), "seconds": len(wave) / int(rate)}
        if output == "waveform":
            result["waveform"] = [float(x) for x in wave]
        else:
            result["wav_base64"] = wav_base64(wave, int(rate))
        results.append(result)
    return results


def predict_rows(name: str, model: Any, rows: Rows, params: dict[str, Any] | None = None) -> Rows:
    """One JSON object per input row, for a SavedModel of family ``name`` (loaded or not)."""
    if not rows:
        return []
    if name == "nlu":
        return predict_nlu(model, rows)
    if name == "nlg":
        return predict_nlg(model, rows)
    if name == "stt":
        return predict_stt(model, rows)
    if name == "tts":
        return predict_tts(model, rows, str((params or {}).get("format") or TTS_FORMATS[0]))
    raise RegistryError(f"unknown family {name!r}")


class VoiceOpsModel(mlflow.pyfunc.PythonModel):
    """A family's SavedModel (artifact ``saved_model``) as an MLflow pyfunc model; the
    family is the model config's ``family``."""

    def __init__(self) -> None:
        self.family = ""
        self.saved_model: Any = None

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        self.family = family(str(context.model_config[FAMILY_KEY])).name
        self.saved_model = load_artifact(context.artifacts[SAVED_MODEL])
        predict_rows(self.family, self.saved_model, input_example(self.family))

    def predict(
        self,
        context: mlflow.pyfunc.PythonModelContext,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> Rows:
        return predict_rows(self.family, self.saved_model, _records(model_input), params)
