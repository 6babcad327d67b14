"""Model families trained briefly at their demo architecture, for the model benchmarks.

Each builder trains the family's ``demo`` config for ``epochs`` on generated rows (latency
and throughput depend on the architecture, not on how well it learned), exports it, loads
the export fresh and returns both ways of calling it on one request:

- ``raw``: the in-process Keras model on inputs already turned into tensors (no text or
  audio preprocessing, no signature dispatch, for TTS no vocoder) -- the model function;
- ``served``: the reloaded SavedModel's ``serving_default`` on the raw request (text,
  waveform), i.e. what serving runs, plus the Python post-processing the family needs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf


@dataclass
class Served:
    """One family's trained model, callable raw and served, and its training figures."""

    family: str
    raw: Callable[[], Any]
    served: Callable[[Any], Any]
    request: Any
    train_examples: int
    epochs: int
    train_seconds: float
    params: int


def _config(family: str, epochs: int, size: str) -> Any:
    module = __import__(f"training.{family}.config", fromlist=["x"])
    config_class = getattr(module, f"{family.upper()}Config")
    config = config_class.tiny() if size == "tiny" else config_class.demo()
    fields = {f.name for f in dataclasses.fields(config)}
    changes = {"epochs": epochs}
    for name in ("early_stopping_patience", "warmup_epochs"):
        if name in fields:
            changes[name] = 0
    return dataclasses.replace(config, **changes)


def _train_count(rows: list[dict]) -> int:
    return sum(1 for row in rows if row.get("split") == "train")


def nlu(work: Path, epochs: int, size: str, quick: bool) -> Served:
    from training.nlu.export import export, load, predict
    from training.nlu.synthetic import synthetic_rows
    from training.nlu.train import train

    rows = synthetic_rows(20 if quick else 60, seed=1)
    result = train(rows, _config("nlu", epochs, size), work / "nlu")
    loaded = load(export(result.serving, work / "nlu" / "saved_model"))
    text = "Заблокируйте, пожалуйста, карту, которая заканчивается на 4321."
    _, inputs = result.encoder(tf.constant([text]))
    raw_model = tf.function(lambda x: result.model(x, training=False))
    return Served(
        "nlu",
        raw=lambda: raw_model(inputs),
        served=lambda request: predict(loaded, [request])[0],
        request=text,
        train_examples=_train_count(rows),
        epochs=result.epochs_run,
        train_seconds=result.seconds,
        params=int(result.model.count_params()),
    )


def nlg(work: Path, epochs: int, size: str, quick: bool) -> Served:
    from training.nlg.data import synthetic_rows
    from training.nlg.export import load, predict
    from training.nlg.train import train

    rows = synthetic_rows(800 if quick else 3000, seed=1)
    result = train(rows, _config("nlg", epochs, size), work / "nlg")
    loaded = load(result.model_path)
    request = {"language": "ru", "intent": "block_card", "slots": {"card_last4": "4321"}}
    language, intent = tf.constant(["ru"]), tf.constant(["block_card"])
    slots = tf.constant(['{"card_last4": "4321"}'])
    return Served(
        "nlg",
        raw=lambda: result.serving.serve(language, intent, slots),
        served=lambda req: predict(loaded, [req])[0],
        request=request,
        train_examples=_train_count(rows),
        epochs=len(result.history.get("loss", [])),
        train_seconds=result.train_seconds,
        params=result.params,
    )


def stt(work: Path, epochs: int, size: str, quick: bool) -> Served:
    from training.stt.beam import BeamSettings
    from training.stt.data import prepare
    from training.stt.export import STTServing, export, load, transcribe
    from training.stt.features import features
    from training.stt.lm import fit_char_lm
    from training.stt.synthetic import synthetic_rows
    from training.stt.train import train

    rows = synthetic_rows(40 if quick else 150, seed=1)
    config = _config("stt", epochs, size)
    result = train(rows, config, work / "stt")
    # served as the demo serves it: beam search with the character LM (a briefly trained
    # model may have kept greedy decoding on validation, which would time less work)
    train_texts = prepare([row for row in rows if row["split"] == "train"]).references
    lm = fit_char_lm(train_texts, config.lm_order, config.lm_min_count)
    decoder = BeamSettings(config.beam_width, config.chars_per_step, 0.8, 2.0)
    loaded = load(export(STTServing(result.model, config, lm, decoder), work / "stt_lm"))
    wave = three_seconds(rows)
    feats, frames = features(
        tf.constant(wave[None, :]), tf.constant([len(wave)]), tf.constant(8000), config.n_mels
    )
    raw_model = tf.function(lambda f, n: result.model({"features": f, "frames": n}, training=False))
    return Served(
        "stt",
        raw=lambda: raw_model(feats, frames),
        served=lambda request: transcribe(loaded, [request], 8000)[0],
        request=wave,
        train_examples=_train_count(rows),
        epochs=result.epochs_run,
        train_seconds=result.seconds,
        params=result.params,
    )


def three_seconds(rows: list[dict]) -> np.ndarray:
    """A 3-second 8 kHz utterance: generated audio, cut or padded with silence."""
    for row in rows:
        audio, rate = np.asarray(row["audio"], np.float32), int(row["audio_rate"])
        if rate == 8000 and len(audio) >= 8000:
            out = np.zeros(24000, np.float32)
            out[: min(len(audio), 24000)] = audio[:24000]
            return out
    raise ValueError("no 8 kHz utterance of at least one second among the rows")


def tts(work: Path, epochs: int, size: str, quick: bool) -> Served:
    from training.tts.export import export, load, synthesize
    from training.tts.synthetic import synthetic_rows
    from training.tts.train import train

    rows = synthetic_rows(30 if quick else 120, work / "tts-audio", seed=1)
    result = train(rows, _config("tts", epochs, size), work / "tts")
    loaded = load(export(result.serving, work / "tts" / "saved_model"))
    texts, languages = tf.constant(["Ваша карта заблокирована."]), tf.constant(["ru"])
    serving, model = result.serving, result.model
    inputs = serving._inputs(texts, languages, serving.house.lookup(languages))

    @tf.function
    def acoustic(inputs: dict[str, tf.Tensor]) -> tf.Tensor:
        """Characters -> log-mel: the network alone (no text encoding, no vocoder)."""
        h, speaker, log_durations = model.encode(inputs)
        durations = tf.maximum(model.predicted_durations(log_durations, inputs["chars"]), 1)
        return model.decode(h, speaker, durations)[0]

    return Served(
        "tts",
        raw=lambda: acoustic(inputs),
        served=lambda req: synthesize(loaded, [req["text"]], [req["language"]])[0][0],
        request={"text": "Ваша карта заблокирована.", "language": "ru"},
        train_examples=_train_count(rows),
        epochs=result.epochs_run,
        train_seconds=result.seconds,
        params=result.params,
    )


BUILDERS: dict[str, Callable[[Path, int, str, bool], Served]] = {
    "stt": stt,
    "nlu": nlu,
    "nlg": nlg,
    "tts": tts,
}
