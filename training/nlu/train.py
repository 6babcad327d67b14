"""Train the NLU model on mart rows: ``train(rows, config, run_dir) -> TrainResult``.

    python -m training.nlu.train --synthetic 150 --size demo --run-dir /tmp/nlu-demo

trains on simulator phrasings (``--synthetic N`` per intent and language; held-out core
phrasings make the test split) and prints the report of every split, ``test_human`` (the
hand-written utterances of :mod:`training.nlu.human`) included; without ``--synthetic`` it
reads the published ``nlu_examples`` mart.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from training.common.callbacks import EpochHook, training_callbacks
from training.common.run import RunSummary, curves_table
from training.common.scores import flat_scores
from training.nlu.bio import tag_names
from training.nlu.config import NLUConfig
from training.nlu.data import dataset, intent_names, label, scored_splits
from training.nlu.evaluate import confusion_table, evaluate_split
from training.nlu.export import NLUServing
from training.nlu.human import HUMAN_SPLIT, HUMAN_VALIDATION_SPLIT
from training.nlu.model import build_model, compile_model
from training.nlu.phrasing import UNSEEN_SPLIT
from training.nlu.selection import BestEpoch
from training.nlu.text import Encoder, build_vocabularies
from training.nlu.translit import with_translit
from training.nlu.typed import typed_rows
from training.nlu.typos import with_typos

FAMILY = "nlu"


@dataclass
class TrainResult:
    """What a run produced: the servable model, its history and its scores per split."""

    config: NLUConfig
    model: keras.Model
    encoder: Encoder
    serving: NLUServing
    history: dict[str, list[float]]
    metrics: dict[str, Any] = field(default_factory=dict)  # split -> evaluate.report(...)
    seconds: float = 0.0
    epochs_run: int = 0
    best_epoch: int = 0  # 1-based: the epoch whose weights the model has
    unlocated_slots: dict[str, int] = field(default_factory=dict)
    typed_train_rows: int = 0  # chat rows added to the train split (training.nlu.typed)


def seed_everything(config: NLUConfig) -> None:
    """Same seed, same data order, same weights; op determinism when the config asks."""
    keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()


def train(
    rows: list[dict[str, Any]],
    config: NLUConfig,
    run_dir: Path,
    on_epoch: EpochHook | None = None,
) -> TrainResult:
    """Fit on the ``train`` split, keep the epoch that does best on ``validation`` and
    ``validation_human`` (:class:`~training.nlu.selection.BestEpoch`), score every other
    split; ``on_epoch(epoch, logs)`` after each epoch."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    seed_everything(config)
    splits = scored_splits(rows)
    if not splits.get("train"):
        raise ValueError("no rows in the train split")
    # after the unseen-phrasing split (chat rows and copies are not the mart's phrasings)
    languages = sorted({row["language"] for row in splits["train"]})
    typed = typed_rows(config.typed_rows, languages, config.seed)
    original = [*splits["train"], *typed]
    splits["train"] = [
        *original,
        *with_typos(original, config.typo_share, config.seed),
        *with_translit(original, config.translit_share, config.seed),
    ]
    labelled = {name: label(split, config.max_tokens) for name, split in splits.items()}
    words, chars = build_vocabularies(labelled["train"].texts, config.min_word_count)
    encoder = Encoder.from_config(words, chars, config)
    model = compile_model(
        build_model(config, len(words), len(chars), len(intent_names()), len(tag_names())),
        config,
    )
    train_ds = dataset(
        labelled["train"],
        encoder,
        config.batch_size,
        shuffle_seed=config.seed,
        word_dropout=config.word_dropout,
    )
    val_ds = (
        dataset(labelled["validation"], encoder, config.batch_size)
        if labelled.get("validation")
        else None
    )
    best_epoch = BestEpoch(
        labelled[HUMAN_VALIDATION_SPLIT],
        encoder,
        config.human_validation_weight,
        config.early_stopping_patience,
    )
    # first: the others (history, TensorBoard, on_epoch) see the logs it adds
    callbacks = [best_epoch, *training_callbacks(FAMILY, run_dir, on_epoch)]
    started = time.perf_counter()
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=config.epochs,
        callbacks=callbacks,
        shuffle=False,
        verbose=0,  # the dataset shuffles itself (seeded)
    )
    seconds = time.perf_counter() - started
    serving = NLUServing(model, encoder, intent_names(), tag_names())
    unlocated: dict[str, int] = {}
    for name, data in labelled.items():
        if name in (UNSEEN_SPLIT, HUMAN_SPLIT, HUMAN_VALIDATION_SPLIT):  # not mart rows
            continue
        for slot, n in data.unlocated.items():
            unlocated[slot] = unlocated.get(slot, 0) + n
    return TrainResult(
        config=config,
        model=model,
        encoder=encoder,
        serving=serving,
        history={k: [float(v) for v in vs] for k, vs in history.history.items()},
        metrics={
            name: evaluate_split(serving, data)
            for name, data in labelled.items()
            if name != "train"
        },
        seconds=seconds,
        epochs_run=len(history.epoch),
        best_epoch=best_epoch.best_epoch + 1,
        unlocated_slots=unlocated,
        typed_train_rows=len(typed),
    )


def run(
    rows: list[dict[str, Any]],
    config: NLUConfig,
    run_dir: Path,
    on_epoch: EpochHook | None = None,
) -> RunSummary:
    """Train, export to ``run_dir/saved_model`` and summarise (the platform's entry point)."""
    from training.nlu.export import export

    result = train(rows, config, run_dir, on_epoch)
    model_path = export(result.serving, Path(run_dir) / "saved_model")
    tables = {"curves": curves_table(result.history)}
    for split in ("test", HUMAN_SPLIT):
        scores = result.metrics.get(split, {}).get("all")
        if scores is not None:
            table = confusion_table(np.array(scores["confusion"]), intent_names())
            tables[f"confusion_{split}"] = "```\n" + table + "\n```"
    return RunSummary(
        model_path=model_path,
        scores=flat_scores(result.metrics),
        history=result.history,
        seconds=result.seconds,
        params=int(result.model.count_params()),
        epochs=result.epochs_run,
        extra={
            "unlocated_slots": sum(result.unlocated_slots.values()),
            "best_epoch": result.best_epoch,
            "typed_train_rows": result.typed_train_rows,
            **human_validation_metrics(result.metrics),
        },
        tables=tables,
    )


def human_validation_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """``human_validation_intent_accuracy_<all|ru|en>`` of the ``validation_human`` split (the
    flat names ``test_human`` has as ``human_intent_accuracy_<language>``)."""
    scores = metrics.get(HUMAN_VALIDATION_SPLIT, {})
    return {
        f"human_validation_intent_accuracy_{language}": float(values["intent_accuracy"])
        for language, values in scores.items()
    }


def _summary(scores: dict[str, Any]) -> dict[str, Any]:
    return {
        lang: {
            "n": s["n"],
            "intent_accuracy": round(s["intent_accuracy"], 4),
            "intent_macro_f1": round(s["intent_macro_f1"], 4),
            "slot_f1": round(s["slot"]["f1"], 4),
        }
        for lang, s in scores.items()
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=NLUConfig.PRESETS, default="demo")
    parser.add_argument("--synthetic", type=int, default=0, help="examples per intent x language")
    parser.add_argument("--run-dir", type=Path, default=Path("runs/nlu"))
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a config field, e.g. --set encoder=bigru",
    )
    parser.add_argument("--export", type=Path, default=None, help="write the SavedModel here")
    args = parser.parse_args(argv)
    config = NLUConfig.preset(args.size, args.set)
    if args.synthetic:
        from training.nlu.synthetic import synthetic_rows

        rows = synthetic_rows(args.synthetic, seed=config.seed)
    else:
        from core.settings import get_settings
        from training.nlu.data import load_rows

        rows = load_rows(get_settings())
    result = train(rows, config, args.run_dir)
    if args.export:
        from training.nlu.export import export

        export(result.serving, args.export)
    print(
        json.dumps(
            {
                "config_hash": config.config_hash()[:12],
                "rows": len(rows),
                "params": result.model.count_params(),
                "epochs_run": result.epochs_run,
                "best_epoch": result.best_epoch,
                "typed_train_rows": result.typed_train_rows,
                "train_seconds": round(result.seconds, 1),
                "unlocated_slots": result.unlocated_slots,
                "scores": {split: _summary(s) for split, s in result.metrics.items()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
