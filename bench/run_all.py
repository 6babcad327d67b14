"""Run every benchmark (``make bench``) and print one summary table of key figures."""

from __future__ import annotations

import importlib
import shutil
import sys
import time
import traceback
from collections.abc import Sequence

from bench._common import (
    SCRATCH_ROOT,
    Figure,
    figures_table,
    format_table,
    parse_args,
    write_results,
)

BENCHMARKS = (
    "cli_startup",
    "commit_scaling",
    "upload_throughput",
    "dvc_compare",
    "upload_memory",
    "ingest_day",
    "warehouse_build",
    "model_families",
    "stt_ctc_loss",
    "malloc_training",
    "tts_postnet",
    "registry_resolve",
    "bootstrap_gate",
    "publish_gate",
    "champion_compare",
    "assignment",
    "serving_api",
    "serving_metrics",
    "capacity",
    "tuning",
    "vector_index",
    "embedding_drift",
)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv)
    usage = shutil.disk_usage(SCRATCH_ROOT)
    print(f"scratch space {SCRATCH_ROOT}: {usage.free / 1e9:.0f} GB free", flush=True)
    figures: list[Figure] = []
    durations: dict[str, float] = {}
    failed: list[str] = []
    started = time.perf_counter()
    for name in BENCHMARKS:
        print(f"\n=== {name}{' (quick)' if args.quick else ''} ===", flush=True)
        start = time.perf_counter()
        try:
            data = importlib.import_module(f"bench.{name}").run(quick=args.quick)
            figures.extend(data["figures"])
        except Exception:
            traceback.print_exc()
            failed.append(name)
        durations[name] = time.perf_counter() - start
    total = time.perf_counter() - started
    print(f"\n=== summary{' (quick)' if args.quick else ''} ===\n")
    print(figures_table(figures))
    print()
    rows = [
        [name, seconds, "FAILED" if name in failed else "ok"] for name, seconds in durations.items()
    ]
    rows.append(["total", total, f"{len(failed)} failed" if failed else "ok"])
    print(format_table(["benchmark", "seconds", "status"], rows))
    met = sum(1 for f in figures if f.met)
    missed = [f for f in figures if f.met is False]
    print(f"\ntargets: {met} met, {len(missed)} not met")
    write_results(
        "summary",
        {"quick": args.quick, "figures": figures, "durations_s": durations, "failed": failed},
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
