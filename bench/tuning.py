"""Hyperparameter tuning throughput: trials per hour with parallel trials and medianstop
pruning against sequential training of the same configs without pruning.

Three runs of one Katib spec (NLU, tiny preset with more epochs, a grid over learning rate and
dropout, so every run tries the same configs) on a published mart of simulator phrasings, each
through ``tuning.runner.run_experiment`` (Optuna on SQLite, MLflow runs included):
sequential without early stopping (the baseline), ``parallelTrialCount: 2`` without it, and
2 in parallel with ``medianstop``. Reported: trials per hour, epochs trained, the best
objective of each, and the speed-ups against the baseline.

    python -m bench.tuning [--quick]
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from bench._common import Figure, bench_main, format_table, ratio, scratch_dir, write_results

NAME = "tuning"
#: the grid: learning rates x dropouts (quick: the first two learning rates)
LEARNING_RATES, DROPOUTS = ["0.001", "0.003", "0.01", "0.03"], ["0.1", "0.3", "0.5"]
EPOCHS, QUICK_EPOCHS = 10, 6
PHRASINGS = 12  # simulator phrasings per intent and language


def _grid(quick: bool) -> list[dict]:
    rates = LEARNING_RATES[:2] if quick else LEARNING_RATES
    return [
        {"name": "lr", "parameterType": "discrete", "feasibleSpace": {"list": rates}},
        {"name": "dropout", "parameterType": "discrete", "feasibleSpace": {"list": DROPOUTS}},
    ]


def _run(
    home: Path,
    rows: list[dict],
    name: str,
    grid: list[dict],
    epochs: int,
    parallel: int,
    prune: bool,
) -> dict:
    from core.settings import Settings
    from tests.tuning.conftest import katib_spec, publish_nlu_mart
    from tuning.load import parse_tuning_spec
    from tuning.runner import run_experiment

    uri = f"sqlite:///{home / 'mlflow.db'}"
    settings = Settings(home=home / name, lake_fsync=False, mlflow_tracking_uri=uri)
    publish_nlu_mart(settings, rows)
    early = {"min_trials_required": "2", "start_step": "3"} if prune else None
    trials = len(grid[0]["feasibleSpace"]["list"]) * len(grid[1]["feasibleSpace"]["list"])
    data = katib_spec(
        name=f"bench-{name}",
        algorithm="grid",
        parameters=grid,
        max_trials=trials,
        parallel=parallel,
        early_stopping=early,
        fixed=(f"epochs={epochs}",),
    )
    spec = parse_tuning_spec(data, f"bench-{name}")
    started = time.perf_counter()
    result = run_experiment(spec, settings, tuned_dir=home / "tuned", log=print)
    seconds = time.perf_counter() - started
    trials_done = result.study.trials
    return {
        "run": name,
        "trials": len(trials_done),
        "pruned": result.status.pruned,
        "epochs": sum(t.user_attrs.get("epochs", 0) for t in trials_done),
        "seconds": seconds,
        "trials_per_hour": len(trials_done) / seconds * 3600,
        "best": result.best.value if result.best else float("nan"),
        "configs": sorted(tuple(t.user_attrs.get("sets", [])) for t in trials_done),
    }


def _warm_up(home: Path, rows: list[dict]) -> None:
    """Import TensorFlow, trace a first model and create the MLflow store before timing."""
    from core.settings import Settings
    from registry.tracking import client
    from training.families import family
    from training.nlu.config import NLUConfig

    family("nlu").run(rows, NLUConfig.tiny(epochs=1), home / "warm-up")
    client(Settings(home=home, mlflow_tracking_uri=f"sqlite:///{home / 'mlflow.db'}"))


def run(quick: bool = False) -> dict:
    from training.nlu.synthetic import synthetic_rows

    grid = _grid(quick)
    epochs = QUICK_EPOCHS if quick else EPOCHS
    rows = synthetic_rows(PHRASINGS, seed=3)
    with scratch_dir(NAME, 2 * 10**9) as home:
        _warm_up(home, rows)
        runs = [
            _run(home, rows, "sequential", grid, epochs, parallel=1, prune=False),
            _run(home, rows, "parallel", grid, epochs, parallel=2, prune=False),
            _run(home, rows, "parallel-pruned", grid, epochs, parallel=2, prune=True),
        ]
    baseline = runs[0]
    same_configs = all(r["configs"] == baseline["configs"] for r in runs)
    table = format_table(
        ["run", "trials", "pruned", "epochs", "seconds", "trials/h", "best", "x baseline"],
        [
            [
                r["run"],
                r["trials"],
                r["pruned"],
                r["epochs"],
                r["seconds"],
                r["trials_per_hour"],
                r["best"],
                ratio(r["trials_per_hour"], baseline["trials_per_hour"]),
            ]
            for r in runs
        ],
    )
    print(
        f"\n{len(rows)} mart rows, NLU tiny preset, {epochs} epochs per trial; same configs "
        f"in every run: {same_configs}\n{table}"
    )
    figures = [
        Figure(NAME, "trials/hour, 2 parallel + medianstop", runs[2]["trials_per_hour"], "/h"),
        Figure(
            NAME,
            "speed-up, 2 parallel vs sequential",
            ratio(runs[1]["trials_per_hour"], baseline["trials_per_hour"]),
            "x",
        ),
        Figure(
            NAME,
            "speed-up, 2 parallel + medianstop vs sequential",
            ratio(runs[2]["trials_per_hour"], baseline["trials_per_hour"]),
            "x",
            target=">= 1.5x",
            met=runs[2]["trials_per_hour"] >= 1.5 * baseline["trials_per_hour"],
        ),
    ]
    data = {"runs": runs, "same_configs": same_configs, "figures": figures, "quick": quick}
    write_results(NAME, data)
    return data


def main(argv: Sequence[str] | None = None) -> None:
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
