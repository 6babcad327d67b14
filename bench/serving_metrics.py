"""The cost of the serving metrics, measured in the same run.

- **overhead**: ``POST /v1/turn`` (multipart WAV: all five stages) from 1 client against two
  API processes over the same models, one recording its metrics in prometheus_client's
  multiprocess mode (files, as ``voiceops serve --workers N`` runs it; the costlier mode),
  one with ``VOICEOPS_SERVING_METRICS=0``; blocks of turns alternate between the two so that
  both see the same load on the machine, and each starts first in half of the rounds. p50
  with metrics over p50 without (goal <= 1.03x).
- **recording cost**: what one turn's metrics (the API's, the bot's, four model calls') cost
  to record, timed in a process of its own in multiprocess mode: a figure the machine's load
  hardly moves, set against the p50 above.
- **scrape**: ``GET /metrics`` of an API with 4 workers after traffic, every scrape on a new
  connection (any worker answers, merging the 4 workers' files): p50/p99 ms, size, series.

Models: the registry's champions under ``VOICEOPS_HOME`` when ``make demo`` has made them,
else every family trained at its tiny size (``--quick`` always uses tiny models).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench._common import Figure, bench_main, format_table, ratio, write_results
from bench.serving_api import ApiProcess, _clients, _models, _percentile, _speech
from serving.metrics_exposition import metrics_root

NAME = "serving_metrics"
ROUNDS, QUICK_ROUNDS = 60, 4
TURNS_PER_BLOCK, QUICK_TURNS_PER_BLOCK = 3, 2  # short blocks: both see the same load
SCRAPE_WORKERS, SCRAPES, QUICK_SCRAPES = 4, 40, 10
OVERHEAD_TARGET = 1.03


def _metrics_dir() -> tempfile.TemporaryDirectory:
    """A scratch ``PROMETHEUS_MULTIPROC_DIR`` where ``voiceops serve`` would put it."""
    return tempfile.TemporaryDirectory(prefix="voiceops-bench-metrics-", dir=metrics_root())


def _overhead(settings: Any, paths: Any, user: str, speech: list, rounds: int, turns: int):
    """Turn times (ms) with and without metrics, in alternating blocks; half the rounds with
    the API with metrics started first, half with it started second (which process started
    first moved an A/A comparison by a few per cent here)."""
    times: dict[str, list[float]] = {"on": [], "off": []}
    for on_first in (True, False):
        with _metrics_dir() as metrics_dir:
            options = {
                "on": {"PROMETHEUS_MULTIPROC_DIR": metrics_dir},
                "off": {"VOICEOPS_SERVING_METRICS": "0"},
            }
            arms = ("on", "off") if on_first else ("off", "on")
            apis = {arm: ApiProcess(settings, paths, **options[arm]) for arm in arms}
            with apis[arms[0]], apis[arms[1]]:
                for api in apis.values():
                    _clients(api.url, user, speech, 1, 3)  # warm-up
                for index in range(rounds // 2):
                    for arm in arms if index % 2 == 0 else arms[::-1]:
                        times[arm] += _clients(apis[arm].url, user, speech, 1, turns)["times"]
    return times


def recording_cost_us(turns: int = 2000) -> float:
    """Microseconds to record one turn's metrics (this process's mode: run it with
    ``PROMETHEUS_MULTIPROC_DIR`` set before prometheus_client is imported)."""
    from serving.metrics import ServingMetrics

    metrics = ServingMetrics()
    models = [metrics.model(f"voicebot-{family}") for family in ("stt", "nlu", "nlg", "tts")]
    stages = {"stt": 20.0, "nlu": 2.0, "dialogue": 1.0, "nlg": 5.0, "tts": 8.0, "total": 36.0}

    def one_turn() -> None:
        metrics.api_turn("OK", 0.04)
        metrics.turn(
            arm=None,
            experiment=None,
            language="en",
            action="respond",
            confidence=0.8,
            nlu_version="1",
            low_confidence=False,
            transcript_empty=False,
            handoff=False,
            fallback_families=(),
            timings_ms=stages,
        )
        for model in models:
            model.ran([0.001], 0.005, True)

    for _ in range(100):
        one_turn()
    start = time.perf_counter()
    for _ in range(turns):
        one_turn()
    return (time.perf_counter() - start) / turns * 1e6


def _recording_cost() -> float:
    """:func:`recording_cost_us` in a fresh process in multiprocess mode."""
    import os
    import subprocess
    import sys

    code = "from bench.serving_metrics import recording_cost_us; print(recording_cost_us())"
    with _metrics_dir() as metrics_dir:
        env = os.environ | {"PROMETHEUS_MULTIPROC_DIR": metrics_dir}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
    return float(out.stdout.split()[-1])


def _scrapes(settings: Any, paths: Any, user: str, speech: list, count: int) -> dict[str, Any]:
    """Scrape times (ms) of ``/metrics`` on an API with 4 workers after traffic."""
    import httpx

    # `voiceops serve --workers N` gives its workers a fresh directory of its own
    root = Path(metrics_root() or tempfile.gettempdir())
    before = set(root.glob("voiceops-metrics-*"))
    with ApiProcess(settings, paths, workers=SCRAPE_WORKERS) as api:
        traffic = _clients(api.url, user, speech, SCRAPE_WORKERS * 2, 3)
        times, text = [], ""
        for _ in range(count):
            start = time.perf_counter()
            response = httpx.get(f"{api.url}/metrics", timeout=30)
            times.append((time.perf_counter() - start) * 1000)
            response.raise_for_status()
            text = response.text
        fresh = set(root.glob("voiceops-metrics-*")) - before
        files = sum(len(list(directory.glob("*.db"))) for directory in fresh)
    series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    answered = len(traffic["times"])
    return {"times": times, "bytes": len(text), "series": series, "files": files, "turns": answered}


def run(quick: bool = False) -> dict[str, Any]:
    from core.settings import Settings, get_settings
    from ingestion.simulator.day import write_day
    from serving.traffic import customers

    rounds = QUICK_ROUNDS if quick else ROUNDS
    turns = QUICK_TURNS_PER_BLOCK if quick else TURNS_PER_BLOCK
    with tempfile.TemporaryDirectory(prefix="voiceops-bench-serving-metrics-") as tmp:
        work = Path(tmp)
        _, source, paths = _models(work, quick)
        speech = _speech(work, 8 if quick else 16)
        settings = get_settings() if paths is None else Settings(home=work / "home")
        if not (settings.sources_root / "crm").is_dir():
            write_day(settings.sources_root, 1, calls=20, seed=5, bad_rate=0.0, audio=False)
        user = customers(settings.sources_root, 1)[0]
        times = _overhead(settings, paths, user, speech, rounds, turns)
        scrape = _scrapes(settings, paths, user, speech, QUICK_SCRAPES if quick else SCRAPES)
    cost_us = _recording_cost()

    on, off = statistics.median(times["on"]), statistics.median(times["off"])
    overhead = ratio(on, off)
    scrape_p50 = statistics.median(scrape["times"])
    rows = [
        ["API, metrics on (multiprocess files)", len(times["on"]), round(on, 1)],
        ["API, metrics off", len(times["off"]), round(off, 1)],
    ]
    rows[0].append(round(_percentile(times["on"], 0.99), 1))
    rows[1].append(round(_percentile(times["off"], 0.99), 1))
    print(f"models: {source}; WAV turns (all five stages) from 1 client, {rounds} rounds")
    print(format_table(["run", "turns", "p50 ms", "p99 ms"], rows))
    print(
        f"recording one turn's metrics (multiprocess files): {cost_us:.0f} us = "
        f"{cost_us / 10 / off:.2f} % of the p50 without metrics"
    )
    print(
        f"/metrics with {SCRAPE_WORKERS} workers ({scrape['files']} metric files, after "
        f"{scrape['turns']} turns), {len(scrape['times'])} scrapes: p50 {scrape_p50:.1f} ms, "
        f"p99 {_percentile(scrape['times'], 0.99):.1f} ms, {scrape['bytes'] / 1024:.0f} KiB, "
        f"{scrape['series']} series"
    )
    figures = [
        Figure(
            NAME,
            "API p50 with metrics vs without",
            overhead,
            "x",
            f"<= {OVERHEAD_TARGET}",
            overhead <= OVERHEAD_TARGET,
        ),
        Figure(NAME, "recording one turn's metrics", cost_us, "us"),
        Figure(NAME, f"/metrics scrape p50, {SCRAPE_WORKERS} workers", scrape_p50, "ms"),
        Figure(NAME, "/metrics series", scrape["series"], ""),
    ]
    data = {"rows": rows, "figures": figures, "models": source, "scrape": scrape, "cost": cost_us}
    write_results(NAME, data)
    return data


def main(argv: Sequence[str] | None = None) -> None:
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
