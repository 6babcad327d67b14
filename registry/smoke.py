"""Gate rule 4: load the exported artifact in a fresh Python process and time reference calls.

    python -m registry.smoke FAMILY MODEL_DIR [--repeats N]   # prints one JSON line

The parent (:func:`smoke_test`) runs that and compares the median latency with the budget.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]


@dataclass
class SmokeResult:
    """Outcome of one smoke run."""

    ok: bool
    reason: str
    load_s: float = 0.0
    latency_ms: float = 0.0
    outputs: object = None

    def to_dict(self) -> dict:
        return asdict(self)


def smoke_test(
    family: str, model_dir: Path, budget_ms: float, *, repeats: int = 5, timeout_s: float = 240
) -> SmokeResult:
    """Run the smoke process; ok when it succeeds and the median call is within budget."""
    command = [sys.executable, "-m", "registry.smoke", family, str(model_dir)]
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2"}
    try:
        done = subprocess.run(
            [*command, "--repeats", str(repeats)],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return SmokeResult(False, f"smoke test did not finish within {timeout_s:.0f} s")
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return SmokeResult(False, f"smoke test failed in a fresh process: {tail[:300]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    latency = float(report["latency_ms"])
    within = latency <= budget_ms
    reason = f"median latency {latency:.1f} ms {'<=' if within else '>'} budget {budget_ms:g} ms"
    return SmokeResult(within, reason, report["load_s"], latency, report["outputs"])


def main(argv: list[str] | None = None) -> None:
    """The fresh process: load, warm up once, time ``repeats`` reference calls, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("family")
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    import tensorflow as tf

    from registry.serving import run_reference

    started = time.perf_counter()
    model = tf.saved_model.load(str(args.model_dir))
    load_s = time.perf_counter() - started
    outputs = run_reference(args.family, model)  # warm-up: the first call traces
    times = []
    for _ in range(max(args.repeats, 1)):
        start = time.perf_counter()
        run_reference(args.family, model)
        times.append((time.perf_counter() - start) * 1000)
    print(
        json.dumps(
            {"load_s": load_s, "latency_ms": statistics.median(times), "outputs": outputs},
            ensure_ascii=False,
            default=str,
        )
    )


if __name__ == "__main__":
    main()
