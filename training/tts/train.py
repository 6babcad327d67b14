"""Train the TTS model on mart rows: ``train(rows, config, run_dir) -> TrainResult``.

    python -m training.tts.train --synthetic 300 --size demo --run-dir /tmp/tts-demo \
        --export /tmp/tts-demo/model [--stt-model PATH]

renders simulator speech (``--synthetic N`` utterances per language) instead of reading the
published ``tts_examples`` mart, trains, scores every non-train split and prints a report;
with ``--stt-model`` the test split's round-trip intelligibility is measured too.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from core.settings import Settings
from training.common.callbacks import EpochHook, training_callbacks
from training.common.optim import epochs_within, warmup_cosine_adamw
from training.common.run import RunSummary, curves_table
from training.tts.config import TTSConfig
from training.tts.data import (
    Examples,
    attach_audio,
    dataset,
    prepare,
    scored_splits,
    training_splits,
)
from training.tts.evaluate import intelligibility, score_examples
from training.tts.export import TTSServing, export
from training.tts.model import FastSpeech

FAMILY = "tts"
log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What a run produced: the servable model, its history and its scores per split."""

    config: TTSConfig
    model: FastSpeech
    serving: TTSServing
    history: dict[str, list[float]]
    metrics: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    seconds: float = 0.0
    epochs_run: int = 0
    params: int = 0
    examples: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> lang -> n
    skipped: dict[str, int] = field(default_factory=dict)
    model_path: Path | None = None


def seed_everything(config: TTSConfig) -> None:
    """Same seed, same data order, same weights; op determinism when the config asks."""
    keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()


def prepare_splits(
    rows: list[dict[str, Any]], config: TTSConfig, settings: Settings | None = None
) -> dict[str, Examples]:
    """Aligned examples of every split present in ``rows`` (``data.training_splits``: the
    voice corpus in ``train`` only, and only with ``voice_corpus``)."""
    return {
        name: prepare(split, config, attach_audio(split, settings))
        for name, split in training_splits(rows, config).items()
    }


def train(
    rows: list[dict[str, Any]],
    config: TTSConfig,
    run_dir: Path,
    settings: Settings | None = None,
    on_epoch: EpochHook | None = None,
) -> TrainResult:
    """Fit on the ``train`` split (validation loss logged), score every other split;
    ``on_epoch(epoch, logs)`` after each epoch."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    seed_everything(config)
    splits = prepare_splits(rows, config, settings)
    if not splits.get("train"):
        raise ValueError("no aligned rows in the train split")
    model = FastSpeech(config)
    train_ds = dataset(splits["train"], config, shuffle_seed=config.seed)
    steps_per_epoch = int(train_ds.cardinality())
    epochs = epochs_within(config.max_steps, steps_per_epoch, config.epochs)
    if epochs < config.epochs:
        log.info("step budget %d: %d of %d epochs", config.max_steps, epochs, config.epochs)
    model.compile(
        optimizer=warmup_cosine_adamw(
            config.learning_rate,
            epochs,
            steps_per_epoch,
            warmup_epochs=config.warmup_epochs,
            weight_decay=config.weight_decay,
            clipnorm=1.0,
        )
    )
    val_ds = dataset(splits["validation"], config) if splits.get("validation") else None
    started = time.perf_counter()
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=epochs,
        callbacks=training_callbacks(FAMILY, run_dir, on_epoch),
        verbose=0,
        shuffle=False,  # the dataset shuffles its batches itself (seeded)
    )
    seconds = time.perf_counter() - started
    serving = TTSServing(model, config)
    skipped: dict[str, int] = {}
    for examples in splits.values():
        for reason, n in examples.skipped.items():
            skipped[reason] = skipped.get(reason, 0) + n
    return TrainResult(
        config=config,
        model=model,
        serving=serving,
        history={k: [float(v) for v in vs] for k, vs in history.history.items()},
        metrics={
            name: score_examples(serving, examples)
            for name, examples in splits.items()
            if name != "train"
        },
        seconds=seconds,
        epochs_run=len(history.epoch),
        params=model.count_params(),
        examples={
            name: {lang: ex.languages.count(lang) for lang in sorted(set(ex.languages))}
            for name, ex in splits.items()
        },
        skipped=skipped,
    )


def calls_intelligibility(
    serving: Any, stt_model: Path, rows: list[dict[str, Any]]
) -> dict[str, dict[str, float]]:
    """``evaluate.intelligibility`` on the calls' test rows (``data.scored_splits``: never the
    voice corpus's, as every other scoring of a TTS), per language."""
    return intelligibility(serving, stt_model, scored_splits(rows).get("test", []))


def run(
    rows: list[dict[str, Any]],
    config: TTSConfig,
    run_dir: Path,
    stt_model: Path | None = None,
    settings: Settings | None = None,
    on_epoch: EpochHook | None = None,
) -> RunSummary:
    """Train, export to ``run_dir/saved_model`` and summarise (the platform's entry point).

    With ``stt_model`` (an STT SavedModel directory) the test split's scores gain
    ``cer_tts``, ``cer_recordings`` and ``cer_ratio`` per language (:func:`calls_intelligibility`).
    """
    result = train(rows, config, run_dir, settings, on_epoch)
    result.model_path = export(result.serving, Path(run_dir) / "saved_model")
    scores = {split: {k: dict(v) for k, v in s.items()} for split, s in result.metrics.items()}
    if stt_model is not None:
        for language, values in calls_intelligibility(result.serving, stt_model, rows).items():
            scores.setdefault("test", {}).setdefault(language, {}).update(values)
    return RunSummary(
        model_path=result.model_path,
        scores=scores,
        history=result.history,
        seconds=result.seconds,
        params=result.params,
        epochs=result.epochs_run,
        extra={f"skipped_{k}": float(v) for k, v in result.skipped.items()},
        tables={"curves": curves_table(result.history)},
    )


def _rounded(scores: dict[str, Any]) -> dict[str, Any]:
    return {k: _rounded(v) if isinstance(v, dict) else round(v, 4) for k, v in scores.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=TTSConfig.PRESETS, default="demo")
    parser.add_argument("--synthetic", type=int, default=0, help="utterances per language")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/voiceops-tts-synthetic"))
    parser.add_argument("--run-dir", type=Path, default=Path("runs/tts"))
    parser.add_argument("--export", type=Path, default=None, help="write the SavedModel here")
    parser.add_argument("--stt-model", type=Path, default=None, help="STT SavedModel directory")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a config field, e.g. --set dim=128",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    config = TTSConfig.preset(args.size, args.set)
    if args.synthetic:
        from training.tts.synthetic import synthetic_rows

        rows = synthetic_rows(args.synthetic, args.cache_dir, seed=config.seed)
    else:
        from core.settings import get_settings
        from training.tts.data import load_rows

        rows = load_rows(get_settings())
    result = train(rows, config, args.run_dir)
    report: dict[str, Any] = {
        "config_hash": config.config_hash()[:12],
        "rows": len(rows),
        "examples": result.examples,
        "skipped": result.skipped,
        "params": result.params,
        "epochs_run": result.epochs_run,
        "train_seconds": round(result.seconds, 1),
        "scores": _rounded(result.metrics),
    }
    if args.export:
        result.model_path = export(result.serving, args.export)
        report["model_path"] = str(result.model_path)
    if args.stt_model:
        report["intelligibility_test"] = _rounded(
            calls_intelligibility(result.serving, args.stt_model, rows)
        )
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
