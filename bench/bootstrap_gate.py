"""The paired bootstrap of the registry gate: its speed against a plain Python loop, and the
cost of per-example stats against each family's aggregate evaluation, measured in one run.

- **bootstrap**: ``registry.compare.paired_bootstrap`` (bootstrap counts ``[R, n]`` @ the
  stats ``[n, k]``, one aggregate call per block of resamples) against a naive loop doing the
  same work one resample at a time (draw n row indices, sum both models' rows, aggregate).
  Simulated stats of a CER-like metric (``ratio``, k = 2) and of BLEU (``bleu``, k = 10).
- **example stats**: ``training.<family>.evaluate.example_stats`` against the family's
  ``evaluate_exported`` (the aggregate scores the gate reads today) on the same test rows of
  a tiny model trained here (both load the SavedModel and run it; the stats keep one count
  row per example; median of 3, alternated), plus ``compare_models`` on those stats (every
  metric and language, 2,000 resamples each).
  ``--quick`` measures the text families only (no audio to render and no STT to train).

    python -m bench.bootstrap_gate [--quick]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from bench._common import (
    Figure,
    bench_main,
    format_table,
    median,
    ratio,
    scratch_dir,
    timed,
    write_results,
)

NAME = "bootstrap_gate"
RESAMPLES = 2000
SIZES, QUICK_SIZES = (200, 2000, 10000), (200, 2000)
REPEATS, QUICK_REPEATS = 5, 2
FAMILY_REPEATS = 3


# --------------------------------------------------------------------------- simulated stats


def simulated(kind: str, n: int, seed: int) -> tuple[Any, Any]:
    """Two models' stats on the same n examples (the new one slightly better)."""
    from training.common.example_stats import ExampleStats

    rng = np.random.default_rng(seed)
    keys = [f"ex-{i}" for i in range(n)]
    languages = ["ru" if i % 2 else "en" for i in range(n)]
    if kind == "ratio":
        lengths = rng.integers(10, 60, n)
        columns, direction = ("char_edits", "reference_chars"), "lower"
        values = [np.stack([rng.binomial(lengths, p), lengths], axis=1) for p in (0.10, 0.11)]
    else:
        lengths = rng.integers(8, 30, n)
        totals = np.maximum(lengths[:, None] - np.arange(4), 0)  # n-grams of order 1..4
        extra = np.stack([lengths, lengths + rng.integers(-2, 3, n)], axis=1)
        columns, direction = tuple(f"c{i}" for i in range(10)), "higher"
        values = [np.hstack([rng.binomial(totals, p), totals, extra]) for p in (0.8, 0.78)]
    return tuple(
        ExampleStats.from_rows("metric", kind, columns, v, keys, languages, direction)
        for v in values
    )


def naive_bootstrap(new: Any, old: Any, resamples: int, seed: int) -> tuple[float, float]:
    """The baseline: one resample at a time in Python; the 95 % interval of the difference."""
    from training.common.example_stats import aggregate

    rng = np.random.default_rng(seed)
    n, sign = len(new), 1.0 if new.higher_is_better else -1.0
    differences = []
    for _ in range(resamples):
        rows = rng.integers(0, n, n)
        a = aggregate(new.kind, new.values[rows].sum(axis=0))
        b = aggregate(old.kind, old.values[rows].sum(axis=0))
        differences.append(sign * (a - b))
    low, high = np.quantile(differences, [0.025, 0.975])
    return float(low), float(high)


def median_of(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median seconds of ``repeats`` calls and the last result."""
    times, result = [], None
    for _ in range(repeats):
        seconds, result = timed(fn)
        times.append(seconds)
    return median(times), result


def bootstrap_speed(quick: bool) -> tuple[list[list[Any]], list[Figure]]:
    from registry.compare import paired_bootstrap

    rows, figures = [], []
    repeats = QUICK_REPEATS if quick else REPEATS
    for kind in ("ratio", "bleu"):
        for n in QUICK_SIZES if quick else SIZES:
            new, old = simulated(kind, n, seed=n)
            fast, result = median_of(
                lambda new=new, old=old: paired_bootstrap(new, old, resamples=RESAMPLES), repeats
            )
            slow, (low, high) = median_of(
                lambda new=new, old=old: naive_bootstrap(new, old, RESAMPLES, seed=1), repeats
            )
            speedup = ratio(slow, fast)
            intervals = f"[{result.ci_low:.4f}, {result.ci_high:.4f}]", f"[{low:.4f}, {high:.4f}]"
            rows.append([kind, n, RESAMPLES, slow, fast, speedup, *intervals])
            figures.append(Figure(NAME, f"bootstrap {kind} n={n}: loop / vectorized", speedup, "x"))
    return rows, figures


# --------------------------------------------------------------------------- families


def _tiny_stt(work: Path) -> tuple[Path, list[dict], dict]:
    from training.stt.config import STTConfig
    from training.stt.synthetic import synthetic_rows
    from training.stt.train import train

    rows = synthetic_rows(8, seed=1, real=2, cache=work / "stt_audio")
    model = train(rows, STTConfig.tiny(epochs=2), work / "stt").model_path
    return model, [r for r in rows if r["split"] == "test"], {}


def _tiny_tts(work: Path, stt_model: Path) -> tuple[Path, list[dict], dict]:
    from training.tts.config import TTSConfig
    from training.tts.export import export
    from training.tts.synthetic import synthetic_rows
    from training.tts.train import train

    rows = synthetic_rows(8, work / "tts_audio", seed=3)
    result = train(rows, TTSConfig.tiny(), work / "tts")
    model = export(result.serving, work / "tts" / "model")
    return model, [r for r in rows if r["split"] == "test"], {"stt_model": stt_model}


def _tiny_nlu(work: Path) -> tuple[Path, list[dict], dict]:
    from training.nlu.config import NLUConfig
    from training.nlu.export import export
    from training.nlu.synthetic import synthetic_rows
    from training.nlu.train import train

    rows = synthetic_rows(8, seed=3)
    model = export(train(rows, NLUConfig.tiny(), work / "nlu").serving, work / "nlu" / "model")
    return model, [r for r in rows if r["split"] == "test"], {}


def _tiny_nlg(work: Path) -> tuple[Path, list[dict], dict]:
    from training.nlg.config import NLGConfig
    from training.nlg.data import synthetic_rows
    from training.nlg.train import train

    intents = ("greeting", "block_card", "exchange_rate", "check_balance")
    rows = synthetic_rows(300, seed=1, intents=intents)
    model = train(rows, NLGConfig.tiny(), work / "nlg").model_path
    return model, [r for r in rows if r["split"] == "test"], {}


def family_costs(work: Path, quick: bool) -> tuple[list[list[Any]], list[Figure]]:
    import importlib

    from registry.compare import compare_models

    rows, figures = [], []
    models: dict[str, tuple[Path, list[dict], dict]] = {
        "nlu": _tiny_nlu(work),
        "nlg": _tiny_nlg(work),
    }
    if not quick:
        models["stt"] = _tiny_stt(work)
        models["tts"] = _tiny_tts(work, models["stt"][0])
    for family, (model, test_rows, extra) in models.items():
        evaluate = importlib.import_module(f"training.{family}.evaluate")
        evaluate.example_stats(model, test_rows, **extra)  # warm-up: first calls trace graphs
        aggregate_times, stats_times = [], []
        for _ in range(FAMILY_REPEATS):  # alternated: both load the SavedModel and run it
            aggregate_times.append(
                timed(partial(evaluate.evaluate_exported, model, test_rows, **extra))[0]
            )
            seconds, stats = timed(partial(evaluate.example_stats, model, test_rows, **extra))
            stats_times.append(seconds)
        aggregate_s, stats_s = median(aggregate_times), median(stats_times)
        compare_s, _ = median_of(partial(compare_models, stats, stats, resamples=RESAMPLES), 3)
        overhead = ratio(stats_s, aggregate_s)
        rows.append(
            [family, len(test_rows), ", ".join(stats), aggregate_s, stats_s, overhead, compare_s]
        )
        figures += [
            Figure(NAME, f"{family} example_stats / evaluate_exported", overhead, "x"),
            Figure(NAME, f"{family} compare_models (all metrics x languages)", compare_s, "s"),
        ]
    return rows, figures


def run(quick: bool = False) -> dict[str, Any]:
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    speed_rows, figures = bootstrap_speed(quick)
    print(
        format_table(
            ["stats", "n", "resamples", "loop s", "vectorized s", "loop/vec", "CI vec", "CI loop"],
            speed_rows,
        ),
        flush=True,
    )
    with scratch_dir(NAME, 200 * 1_000_000) as work:
        family_rows, family_figures = family_costs(Path(work), quick)
    print()
    headers = ["family", "rows", "metrics", "evaluate_exported s", "example_stats s"]
    print(format_table([*headers, "stats/exported", "compare_models s"], family_rows))
    figures += family_figures
    data = {"quick": quick, "bootstrap": speed_rows, "families": family_rows, "figures": figures}
    write_results(NAME, data)
    return data


def main(argv: Sequence[str] | None = None) -> None:
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
