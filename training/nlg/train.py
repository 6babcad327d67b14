"""Train the NLG template decoder, evaluate it and export a SavedModel.

python -m training.nlg.train --size demo --examples 6000 --run-dir runs/nlg-demo
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from training.common.run import RunSummary, curves_table
from training.common.scores import flat_scores
from training.nlg.config import NLGConfig
from training.nlg.data import (
    Example,
    Vocab,
    condition_vocab,
    dataset,
    delex_stats,
    encode,
    prepare,
    synthetic_rows,
    tokenize,
)

if TYPE_CHECKING:
    from training.common.callbacks import EpochHook

FAMILY = "nlg"
MODEL_DIR = "saved_model"


@dataclass
class TrainResult:
    """What a run produced: metrics per split, the exported model and its lineage."""

    config: NLGConfig
    config_hash: str
    model_path: Path
    metrics: dict[str, dict[str, dict[str, float]]]  # split -> language -> metric -> value
    delex: dict[str, float]
    history: dict[str, list[float]] = field(default_factory=dict)
    train_seconds: float = 0.0
    params: int = 0
    serving: Any = None  # the in-process NLGServing (not serialised)

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": FAMILY,
            "config": self.config.to_dict(),
            "config_hash": self.config_hash,
            "model_path": str(self.model_path),
            "metrics": self.metrics,
            "delex": self.delex,
            "history": self.history,
            "train_seconds": self.train_seconds,
            "params": self.params,
        }


def _callbacks(run_dir: Path, on_epoch: EpochHook | None = None) -> list:
    try:
        from training.common.callbacks import training_callbacks
    except ImportError:  # the shared callbacks are optional
        return []
    return training_callbacks(FAMILY, run_dir, on_epoch)


def _requests(examples: list[Example]) -> list[dict[str, Any]]:
    return [{"language": e.language, "intent": e.intent, "slots": e.slots} for e in examples]


def train(
    rows: list[dict[str, Any]],
    config: NLGConfig,
    run_dir: Path,
    on_epoch: EpochHook | None = None,
) -> TrainResult:
    """Fit on the ``train`` split, evaluate on ``validation`` and ``test``, export to run_dir;
    ``on_epoch(epoch, logs)`` after each epoch."""
    import keras

    from training.nlg.evaluate import score_by_language
    from training.nlg.export import NLGServing, save, templates
    from training.nlg.model import build_model

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    examples = prepare(rows)
    splits = {s: [e for e in examples if e.split == s] for s in ("train", "validation", "test")}
    if not splits["train"]:
        raise ValueError("no training rows (split == 'train')")
    vocab = Vocab.build([e.template for e in splits["train"]], config.min_count)
    longest = max(len(tokenize(e.template)) for e in splits["train"]) + 1
    max_len = min(config.max_len, longest)
    languages, intents, _ = condition_vocab()
    model = build_model(config, len(vocab), len(languages), len(intents))
    train_ds = dataset(
        encode(splits["train"], vocab, max_len), config.batch_size, True, config.seed
    )
    val_ds = None
    if splits["validation"]:
        val_ds = dataset(encode(splits["validation"], vocab, max_len), config.batch_size, False, 0)
    started = time.perf_counter()
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=config.epochs,
        verbose=0,
        shuffle=False,
        callbacks=_callbacks(run_dir, on_epoch),
    )
    seconds = time.perf_counter() - started
    serving = NLGServing(model, vocab, max_len)
    metrics = {
        split: score_by_language(templates(serving, _requests(exs)), exs, pool=splits["train"])
        for split, exs in splits.items()
        if exs and split != "train"
    }
    result = TrainResult(
        config=config,
        config_hash=config.config_hash(),
        model_path=run_dir / MODEL_DIR,
        metrics=metrics,
        delex=delex_stats(examples),
        history={k: [float(v) for v in vs] for k, vs in history.history.items()},
        train_seconds=seconds,
        params=int(model.count_params()),
        serving=serving,
    )
    save(
        serving,
        result.model_path,
        result.to_dict() | {"vocab_size": len(vocab), "max_len": max_len},
    )
    (run_dir / "metrics.json").write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
    return result


def run(
    rows: list[dict[str, Any]],
    config: NLGConfig,
    run_dir: Path,
    on_epoch: EpochHook | None = None,
) -> RunSummary:
    """Train, export (``train`` already writes ``run_dir/saved_model``) and summarise."""
    result = train(rows, config, run_dir, on_epoch)
    return RunSummary(
        model_path=result.model_path,
        scores=flat_scores(result.metrics),
        history=result.history,
        seconds=result.train_seconds,
        params=result.params,
        epochs=len(result.history.get("loss", [])),
        extra={f"delex_{k}": v for k, v in result.delex.items()},
        tables={"curves": curves_table(result.history)},
    )


def main(argv: list[str] | None = None) -> None:
    """Train on generated rows (no warehouse needed) and print the metrics."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=NLGConfig.PRESETS, default="demo")
    parser.add_argument("--examples", type=int, default=6000, help="generated calls to draw")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--run-dir", type=Path, default=Path("runs/nlg"))
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a config field, e.g. --set units=64",
    )
    args = parser.parse_args(argv)
    config = NLGConfig.preset(args.size, args.set)
    rows = synthetic_rows(args.examples, seed=args.seed)
    result = train(rows, config, args.run_dir)
    print(
        json.dumps(
            {
                "config_hash": config.config_hash()[:12],
                "rows": len(rows),
                "epochs_run": len(result.history.get("loss", [])),
                "train_seconds": round(result.train_seconds, 1),
                "params": result.params,
                "delex": result.delex,
                "metrics": result.metrics,
                "model": str(result.model_path),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
