"""Where a TTS model loses intelligibility: the vocoder, the acoustic model or the durations.

    python -m training.tts.diagnose --stt-model STT_DIR [--model TTS_DIR] [--synthetic 400]

prints the CER of an STT model, per language, on the split's recordings; on the recordings
through log-mel and Griffin-Lim (the vocoder alone), also with the mel floored and smoothed
over frequency or over time; and with ``--model``: on the model's mel at the measured
durations (each row's speaker), at its own predicted durations, and on its served audio.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from scipy.ndimage import gaussian_filter

from training.tts.config import TTSConfig
from training.tts.data import Examples, attach_audio, prepare, resample
from training.tts.evaluate import add_rows_arguments, cer_by_language, rows_of
from training.tts.export import config_of, load, synthesize
from training.tts.features import SILENCE, MelSpec, peak_normalize

#: Changes applied to a recording's log-mel ``[F, n_mels]`` before Griffin-Lim.
DEGRADATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "vocoder": lambda mel: mel,
    "vocoder, floor -4": lambda mel: np.maximum(mel, -4.0),
    "vocoder, 2 mel bins blur": lambda mel: gaussian_filter(mel, sigma=(0, 2)),
    "vocoder, 20 ms blur": lambda mel: gaussian_filter(mel, sigma=(2, 0)),
}


def _cer_by_language(stt: Any, examples: Examples, waves: list[np.ndarray], rate: int) -> dict:
    from training.stt.export import transcribe

    heard = transcribe(stt, waves, rate)
    return cer_by_language(examples.texts, heard, examples.languages)


def _model_mels(tts: Any, examples: Examples, predicted: bool) -> list[np.ndarray]:
    """The model's log-mel of each example at the measured (or its own) durations."""
    mels = []
    for i in range(len(examples)):
        args = {
            "texts": tf.constant([examples.texts[i]]),
            "languages": tf.constant([examples.languages[i]]),
            "speakers": tf.constant([examples.speakers[i]]),
        }
        durations = examples.durations[i]
        if predicted:
            durations = tts.score(**args, durations=tf.constant(durations[None]))["durations"]
            durations = durations.numpy()[0][: len(examples.durations[i])]
            durations[-1] = max(durations[-1], 1)
        out = tts.score(**args, durations=tf.constant(durations[None]))
        mels.append(out["log_mel"].numpy()[0][: int(durations.sum())])
    return mels


def diagnose(
    rows: list[dict[str, Any]],
    stt: Any,
    config: TTSConfig,
    tts: Any = None,
    audio: list[tuple[np.ndarray, int]] | None = None,
) -> dict[str, dict[str, float]]:
    """``{audio kind: {language: CER}}`` on the espeak-aligned ``rows`` (see module doc)."""
    audio = audio if audio is not None else attach_audio(rows)
    full_range = dataclasses.replace(config, mel_floor=SILENCE)  # copies need the whole mel
    examples = prepare(rows, full_range, audio)
    recorded = {
        (row["text"], row["speaker"]): resample(wave, rate, config.sample_rate)
        for row, (wave, rate) in zip(rows, audio, strict=True)
    }
    spec = MelSpec(
        config.sample_rate, config.n_fft, config.hop, config.n_mels, config.fmin, config.fmax
    )

    def vocode(mels: list[np.ndarray]) -> list[np.ndarray]:
        iterations, power = config.griffin_lim_iters, config.griffin_lim_power
        return [
            peak_normalize(spec.griffin_lim(tf.constant(m[None]), iterations, power).numpy()[0])
            for m in mels
        ]

    rate = config.sample_rate
    keys = zip(examples.texts, examples.speakers, strict=True)
    results = {"recordings": _cer_by_language(stt, examples, [recorded[k] for k in keys], rate)}
    for name, change in DEGRADATIONS.items():
        mels = [change(mel).astype(np.float32) for mel in examples.mels]
        results[name] = _cer_by_language(stt, examples, vocode(mels), rate)
    if tts is not None:
        for name, predicted in (
            ("model, measured durations", False),
            ("model, own durations", True),
        ):
            mels = _model_mels(tts, examples, predicted)
            results[name] = _cer_by_language(stt, examples, vocode(mels), rate)
        waves, served_rate = synthesize(tts, examples.texts, examples.languages)
        results["model, served (house voice)"] = _cer_by_language(stt, examples, waves, served_rate)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stt-model", type=Path, required=True, help="STT SavedModel directory")
    parser.add_argument("--model", type=Path, default=None, help="TTS SavedModel directory")
    add_rows_arguments(parser)
    args = parser.parse_args(argv)
    rows = rows_of(args)
    tts = load(args.model) if args.model else None
    config = config_of(tts) if tts is not None else TTSConfig.demo()
    results = diagnose(rows, tf.saved_model.load(str(args.stt_model)), config, tts)
    rounded = {kind: {k: round(v, 4) for k, v in cers.items()} for kind, cers in results.items()}
    print(json.dumps(rounded, indent=2))


if __name__ == "__main__":
    main()
