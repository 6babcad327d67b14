"""Train the STT model on mart rows: ``train(rows, config, run_dir) -> TrainResult``.

    python -m training.stt.train --synthetic 1500 --real 60 --size demo --run-dir /tmp/stt

trains on simulator recordings (``--synthetic N`` utterances per language; held-out voices
make the test split, festvox-ru recordings ``test_real``) and prints the scores; without
``--synthetic`` it reads the published ``stt_examples`` mart and its audio from the lake.
The SavedModel is written to ``run_dir/saved_model``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from training.common.callbacks import EpochHook, training_callbacks
from training.common.optim import warmup_cosine_adamw
from training.stt.config import STTConfig
from training.stt.data import Prepared, prepare, split_rows
from training.stt.dataset import FRAMES_PER_SECOND, _bucketing, make_dataset
from training.stt.evaluate import served_scores
from training.stt.export import STTServing, export
from training.stt.features import MODEL_RATE
from training.stt.lm import fit_char_lm
from training.stt.model import CTCTrainer, build_model
from training.stt.tune import choose_decoder
from training.stt.warm_start import restore_weights

FAMILY = "stt"
MODEL_DIR = "saved_model"
#: Keras's warning at the end of the first epoch of a dataset of unknown length (length
#: bucketing, the CTC filter and speed augmentation make the batch count vary per epoch): the
#: epoch simply ended. A fixed ``steps_per_epoch`` would change the training, so it is ignored.
OUT_OF_DATA_WARNING = "Your input ran out of data; interrupting training"


@dataclass
class TrainResult:
    """What a run produced: the servable model, its curves, scores and data counts."""

    config: STTConfig
    model: keras.Model
    serving: STTServing
    history: dict[str, list[float]]
    metrics: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    seconds: float = 0.0
    epochs_run: int = 0
    params: int = 0
    data_rows: dict[str, int] = field(default_factory=dict)  # split -> usable rows
    excluded: dict[str, int] = field(default_factory=dict)  # reason -> rows left out
    train_audio_seconds: float = 0.0
    decoder_validation_cer: dict[str, float] = field(default_factory=dict)  # decoder -> CER
    decoder_group_cer: dict[str, dict[str, float]] = field(default_factory=dict)  # by group
    lm_contexts: int = 0
    decoder_seconds: float = 0.0  # fitting the LM and choosing its weights (after training)
    model_path: Path | None = None


class TimeBudget(keras.callbacks.Callback):
    """Stops training after the batch in which ``seconds`` have passed (a safety net)."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds
        self.started = time.perf_counter()

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if time.perf_counter() - self.started > self.seconds:
            self.model.stop_training = True


def _steps_per_epoch(data: Prepared, config: STTConfig) -> int:
    """Batches per epoch as the length bucketing will form them (before augmentation)."""
    seconds = np.array([len(w) / MODEL_RATE for w in data.waveforms])
    edges, sizes = _bucketing(seconds, config)
    frames = seconds * FRAMES_PER_SECOND
    bucket = np.searchsorted(np.asarray(edges), frames, side="right")
    counts = np.bincount(bucket, minlength=len(sizes))
    return int(sum(-(-int(c) // s) for c, s in zip(counts, sizes, strict=True)))


def _optimizer(config: STTConfig, steps: int) -> keras.optimizers.Optimizer:
    return warmup_cosine_adamw(
        config.learning_rate,
        config.epochs,
        steps,
        warmup_epochs=config.warmup_epochs,
        weight_decay=config.weight_decay,
    )


def evaluate_split(serving: STTServing, data: Prepared) -> dict[str, dict[str, float]]:
    """Scores of ``serving`` on prepared data (``evaluate.served_scores``)."""
    return served_scores(serving, data)


def train(
    rows: list[dict[str, Any]],
    config: STTConfig,
    run_dir: Path,
    on_epoch: EpochHook | None = None,
    init_model: Path | None = None,
) -> TrainResult:
    """Fit on ``train`` (augmented), watch ``validation``, score the other splits, export;
    ``on_epoch(epoch, logs)`` after each epoch; ``init_model``: a SavedModel whose weights
    training starts from (``training.stt.warm_start``)."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    prepared = {name: prepare(split) for name, split in split_rows(rows).items()}
    train_data = prepared.get("train")
    if train_data is None or not train_data.references:
        raise ValueError("no usable rows in the train split")
    model = build_model(config)
    if init_model is not None:
        restore_weights(model, init_model)
    trainer = CTCTrainer(model, config.time_stride)
    trainer.compile(optimizer=_optimizer(config, _steps_per_epoch(train_data, config)))
    train_ds = make_dataset(
        train_data.waveforms, train_data.labels, config, training=True, seed=config.seed
    )
    val = prepared.get("validation")
    val_ds = (
        make_dataset(val.waveforms, val.labels, config, training=False)
        if val and val.references
        else None
    )
    callbacks = training_callbacks(FAMILY, run_dir, on_epoch)
    if config.max_train_seconds:
        callbacks.append(TimeBudget(config.max_train_seconds))
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=OUT_OF_DATA_WARNING, category=UserWarning)
        history = trainer.fit(
            train_ds,
            validation_data=val_ds,
            epochs=config.epochs,
            callbacks=callbacks,
            verbose=0,
            shuffle=False,
        )
    seconds = time.perf_counter() - started
    serving = STTServing(model, config)
    decoder_cer, group_cer, lm, tuning_started = {}, {}, None, time.perf_counter()
    if config.lm_order:
        lm = fit_char_lm(train_data.references, config.lm_order, config.lm_min_count)
        if val and val.references:
            choice = choose_decoder(serving, lm, val, config)
            decoder_cer, group_cer = choice.validation_cer, choice.group_cer
            serving = STTServing(model, config, lm, choice.settings)
    decoder_seconds = time.perf_counter() - tuning_started
    excluded: Counter[str] = Counter()
    for data in prepared.values():
        excluded.update(data.excluded)
    result = TrainResult(
        config=config,
        model=model,
        serving=serving,
        history={k: [float(v) for v in vs] for k, vs in history.history.items()},
        metrics={
            name: evaluate_split(serving, data)
            for name, data in prepared.items()
            if name != "train" and data.references
        },
        seconds=seconds,
        epochs_run=len(history.epoch),
        params=int(model.count_params()),
        data_rows={name: len(data.references) for name, data in prepared.items()},
        excluded=dict(excluded),
        train_audio_seconds=train_data.seconds,
        decoder_validation_cer=decoder_cer,
        decoder_group_cer=group_cer,
        decoder_seconds=decoder_seconds,
        lm_contexts=len(lm.keys) if lm is not None else 0,
    )
    result.model_path = export(serving, run_dir / MODEL_DIR)
    return result


def run(
    rows: list[dict[str, Any]],
    config: STTConfig,
    run_dir: Path,
    on_epoch: EpochHook | None = None,
    init_model: Path | None = None,
) -> Any:
    """Train and export, summarised as a ``training.common.run.RunSummary``."""
    from training.common.run import RunSummary, curves_table

    result = train(rows, config, run_dir, on_epoch, init_model)
    return RunSummary(
        model_path=result.model_path,
        scores=result.metrics,
        history=result.history,
        seconds=result.seconds,
        params=result.params,
        epochs=result.epochs_run,
        extra={
            "train_audio_hours": result.train_audio_seconds / 3600,
            "decoder_seconds": result.decoder_seconds,
            "lm_contexts": float(result.lm_contexts),
            **{f"excluded_{k}": float(v) for k, v in result.excluded.items()},
        },
        tables={"curves": curves_table(result.history)} | _decoder_tables(result),
    )


def _decoder_tables(result: TrainResult) -> dict[str, str]:
    """Validation CER of every decoder tried, overall and per group (synthetic / real
    speech), as markdown; the chosen one is the lowest that makes no group worse than greedy."""
    if not result.decoder_validation_cer:
        return {}
    groups = sorted({g for cers in result.decoder_group_cer.values() for g in cers})
    lines = ["| decoder | validation CER | " + " | ".join(groups) + " |"]
    lines.append("|---" * (2 + len(groups)) + "|")
    for name, value in result.decoder_validation_cer.items():
        by_group = result.decoder_group_cer.get(name, {})
        cells = [f"{by_group[g]:.4f}" if g in by_group else "" for g in groups]
        lines.append(f"| {name} | {value:.4f} | " + " | ".join(cells) + " |")
    return {"decoder": "\n".join(lines)}


def _rounded(metrics: dict[str, dict[str, dict[str, float]]]) -> dict:
    return {
        split: {lang: {k: round(v, 4) for k, v in s.items()} for lang, s in langs.items()}
        for split, langs in metrics.items()
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=STTConfig.PRESETS, default="demo")
    parser.add_argument("--synthetic", type=int, default=0, help="utterances per language")
    parser.add_argument("--real", type=int, default=60, help="test_real rows (with --synthetic)")
    parser.add_argument("--run-dir", type=Path, default=Path("runs/stt"))
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a config field, e.g. --set channels=256",
    )
    args = parser.parse_args(argv)
    config = STTConfig.preset(args.size, args.set)
    if args.synthetic:
        from training.stt.synthetic import synthetic_rows

        rows = synthetic_rows(args.synthetic, seed=config.seed, real=args.real)
    else:
        from core.settings import get_settings
        from training.stt.data import load_rows

        rows = load_rows(get_settings())
    result = train(rows, config, args.run_dir)
    print(
        json.dumps(
            {
                "config_hash": config.config_hash()[:12],
                "rows": len(rows),
                "usable_rows": result.data_rows,
                "excluded": result.excluded,
                "train_audio_minutes": round(result.train_audio_seconds / 60, 1),
                "params": result.params,
                "epochs_run": result.epochs_run,
                "train_seconds": round(result.seconds, 1),
                "decoder_seconds": round(result.decoder_seconds, 1),
                "lm_contexts": result.lm_contexts,
                "decoder_validation_cer": {
                    k: round(v, 4) for k, v in result.decoder_validation_cer.items()
                },
                "decoder_group_cer": {
                    k: {g: round(v, 4) for g, v in groups.items()}
                    for k, groups in result.decoder_group_cer.items()
                },
                "final_loss": {k: round(v[-1], 3) for k, v in result.history.items() if v},
                "scores": _rounded(result.metrics),
                "model": str(result.model_path),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
