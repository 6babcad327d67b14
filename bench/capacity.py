"""Capacity of the turn API on loopback: Locust at 1, 2 and 4 workers -> the HPA's targets.

The API runs in its own process with ``--workers`` 1, then 2, then 4 (``voiceops serve`` on
the registry's champions, or uvicorn over tiny models as in ``bench.serving_api``); Locust,
in its own process, drives it with a fixed number of users posting WAV turns to
``POST /v1/turn`` with no think time, for a fixed time per step. Per step: turns/s, p50/p99,
failures, the CPU seconds of the API's process tree -> turns/s per busy core, and each
ratio to the 1-worker step. One caller at 1 worker first gives the unloaded p99.
``bench.capacity_model`` turns the steps into the HPA's CPU and turns/s-per-pod targets.

Bounded: every Locust run has a run time and is killed past it; steps that would start
after the total cap are skipped (and said so); every process started here is stopped.
The figures are this machine's, with whatever else runs on it (load averages recorded).
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench._common import RESULTS_DIR, Figure, bench_main, format_table, ratio, write_results
from bench._locust import LocustRun, locust_installed, run_locust
from bench.capacity_model import HpaTargets, Step, hpa_targets

NAME = "capacity"
WORKERS = (1, 2, 4)
USERS, QUICK_USERS = 16, 4
STEP_S, QUICK_STEP_S = 40, 8
UNLOADED_S, QUICK_UNLOADED_S = 15, 4
TOTAL_CAP_S, QUICK_TOTAL_CAP_S = 900, 300
OBJECTIVE_MS = 1000.0  # p99 of a turn
REQUEST_CORES = 1.0  # the serving pod's CPU request (deploy/k8s/base/serving/deployment.yaml)


@contextmanager
def _api(
    settings: Any, paths: dict[str, Path] | None, workers: int, bank_url: str
) -> Iterator[Any]:
    """The API with ``workers`` processes on the bank at ``bank_url``, its stderr in
    ``bench/results/capacity-server-<workers>w.log``; on the way out, whatever of its tree
    is still alive after a graceful stop is killed."""
    from bench.serving_api import ApiProcess

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    log = (RESULTS_DIR / f"{NAME}-server-{workers}w.log").open("w")
    api = ApiProcess(
        settings, paths, workers=workers, stderr=log, VOICEOPS_SERVING_BANK_URL=bank_url
    )
    tree: list[psutil.Process] = []
    try:
        with log, api:
            tree = psutil.Process(api.process.pid).children(recursive=True)
            yield api
    finally:
        if api.process.poll() is None:
            api.process.kill()
            api.process.wait(timeout=30)
        for process in tree:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                continue


def _warm(url: str, user: str, speech: list, workers: int, timeout_s: float = 300) -> None:
    """Rounds of a few concurrent turns per worker until one round is answered in full:
    ``/readyz`` answers once the first worker is ready, while the others may still be
    loading their models (their turns get 503)."""
    from bench.serving_api import _clients

    deadline = time.monotonic() + timeout_s
    while True:
        result = _clients(url, user, speech, 2 * workers, 2)
        if not result["refused"] and not result["errors"]:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{workers} workers not all answering after {timeout_s:g} s")
        time.sleep(2)


def _step(workers: int, run: LocustRun) -> Step:
    """The step as the model sees it: answered turns only (failures counted apart)."""
    return Step(
        workers=workers,
        turns_per_s=run.answered_per_s,
        p50_ms=run.p50_ms,
        p99_ms=run.p99_ms,
        cpu_seconds=run.server_cpu_s,
        turns=run.turns - run.failures,
        failures=run.failures,
    )


def _write_speech(work: Path, speech: list[tuple[str, bytes]]) -> Path:
    folder = work / "speech"
    folder.mkdir()
    for i, (language, wav) in enumerate(speech):
        (folder / f"{i}_{language}.wav").write_bytes(wav)
    return folder


def _row(label: str, run: LocustRun, step: Step, base: Step | None) -> list:
    busy = run.server_cpu_s / run.wall_s
    ours = run.server_cpu_s + run.locust_cpu_s + run.bank_cpu_s
    others = max(run.machine_cpu_s - ours, 0) / run.wall_s
    return [
        label,
        round(step.turns_per_s, 2),
        round(run.p50_ms),
        round(run.p99_ms),
        run.failures,
        round(busy, 2),
        round(step.per_core, 2),
        round(ratio(step.turns_per_s, base.turns_per_s), 2) if base else 1.0,
        round(ratio(step.per_core, base.per_core), 2) if base else 1.0,
        round(run.locust_cpu_s / run.wall_s, 2),
        round(run.bank_cpu_s / run.wall_s, 2),
        round(others, 2),
    ]


HEADERS = [
    "step",
    "turns/s",  # answered (failed turns are counted apart)
    "p50 ms",
    "p99 ms",
    "failures",
    "API cores busy",
    "turns/s per core",
    "turns/s vs 1w",
    "per core vs 1w",
    "locust cores",
    "bank cores",
    "other cores",
]


def _load_steps(
    settings: Any,
    paths: dict[str, Path] | None,
    env: dict[str, str],
    user: str,
    speech: list,
    quick: bool,
) -> tuple[list[Step], LocustRun, list[list], list[int], dict[int, dict[str, int]]]:
    """The unloaded run and the 1/2/4-worker steps, within the total cap; the simulated
    bank in its own process for all of them (deployed, the API's back end is elsewhere)."""
    from voiceops.cli.serve import _start_bank

    bank, bank_url = _start_bank(settings.sources_root)
    try:
        return _steps_on(settings, paths, env, user, speech, quick, bank.pid, bank_url)
    finally:
        bank.terminate()
        bank.wait(timeout=30)


def _steps_on(
    settings: Any,
    paths: dict[str, Path] | None,
    env: dict[str, str],
    user: str,
    speech: list,
    quick: bool,
    bank_pid: int,
    bank_url: str,
) -> tuple[list[Step], LocustRun, list[list], list[int], dict[int, dict[str, int]]]:
    users = QUICK_USERS if quick else USERS
    step_s = QUICK_STEP_S if quick else STEP_S
    deadline = time.monotonic() + (QUICK_TOTAL_CAP_S if quick else TOTAL_CAP_S)
    steps: list[Step] = []
    rows: list[list] = []
    skipped: list[int] = []
    unloaded: LocustRun | None = None
    errors: dict[int, dict[str, int]] = {}
    for workers in WORKERS:
        if time.monotonic() > deadline:
            skipped.append(workers)
            print(f"{workers} workers: skipped, past the total cap", flush=True)
            continue
        with _api(settings, paths, workers, bank_url) as api:
            _warm(api.url, user, speech, workers)
            pid = api.process.pid
            if workers == 1:
                seconds = QUICK_UNLOADED_S if quick else UNLOADED_S
                unloaded = run_locust(api.url, 1, seconds, env, pid, bank_pid)
                rows.append(_row("1 worker, 1 user", unloaded, _step(1, unloaded), None))
            run = run_locust(api.url, users, step_s, env, pid, bank_pid)
        step = _step(workers, run)
        steps.append(step)
        rows.append(_row(f"{workers} worker(s), {users} users", run, step, steps[0]))
        print(format_table(HEADERS, rows[-1:]), flush=True)
        for error, count in run.errors.items():
            print(f"  {count} x {error}", flush=True)
        errors[workers] = run.errors
    assert unloaded is not None  # the 1-worker step runs first, before any cap
    return steps, unloaded, rows, skipped, errors


def _figures(steps: list[Step], targets: HpaTargets | None) -> list[Figure]:
    base = steps[0]
    figures = [Figure(NAME, "turns/s per core, 1 worker", round(base.per_core, 2), "turns/s")]
    for step in steps[1:]:
        figures.append(
            Figure(
                NAME,
                f"turns/s {step.workers} workers vs 1",
                ratio(step.turns_per_s, base.turns_per_s),
                "x",
            )
        )
    figures.append(
        Figure(
            NAME,
            "p99 at 1 worker under load",
            base.p99_ms,
            "ms",
            f"<= {OBJECTIVE_MS:.0f}",
            base.p99_ms <= OBJECTIVE_MS,
        )
    )
    failures = sum(step.failures for step in steps)
    figures.append(Figure(NAME, "failed turns (all steps)", failures, "", "0", failures == 0))
    if targets is not None:
        figures.append(Figure(NAME, "HPA CPU target", targets.cpu_percent, "%"))
        figures.append(Figure(NAME, "HPA turns/s per pod", targets.turns_per_pod, "turns/s"))
    return figures


def run(quick: bool = False) -> dict[str, Any]:
    from bench.serving_api import _models, _speech
    from core.settings import Settings, get_settings
    from ingestion.simulator.day import write_day
    from serving.traffic import customers

    if not locust_installed():
        raise RuntimeError("bench capacity: locust is not installed (pip install -e '.[bench]')")
    started_at = datetime.now(UTC)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="voiceops-bench-capacity-") as tmp:
        work = Path(tmp)
        models, source, paths = _models(work, quick)
        del models  # loaded by each worker of the API, not here
        speech = _speech(work, 8 if quick else 24)
        settings = get_settings() if paths is None else Settings(home=work / "home")
        if not (settings.sources_root / "crm").is_dir():
            write_day(settings.sources_root, 1, calls=20, seed=5, bad_rate=0.0, audio=False)
        user = customers(settings.sources_root, 1)[0]
        env = {"VOICEOPS_LOCUST_SPEECH": str(_write_speech(work, speech))}
        env["VOICEOPS_LOCUST_USER"] = user
        steps, unloaded, rows, skipped, errors = _load_steps(
            settings, paths, env, user, speech, quick
        )
    load_after = os.getloadavg()
    targets = hpa_targets(
        steps, unloaded.p99_ms, objective_ms=OBJECTIVE_MS, request_cores=REQUEST_CORES
    )
    print(
        f"\nmodels: {source}; {psutil.cpu_count()} CPUs ({platform.processor() or 'cpu'}); "
        f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; "
        f"{'skipped workers: ' + str(skipped) if skipped else 'all steps ran'}"
    )
    print(format_table(HEADERS, rows))
    print(
        f"capacity model: {targets.per_core:.1f} turns/s per core, p99 of one caller "
        f"{unloaded.p99_ms:.0f} ms -> hold pods at {targets.cpu_percent} % of their "
        f"{REQUEST_CORES:g} CPU ({targets.bound_by}-bound), {targets.turns_per_pod} turns/s "
        f"per pod, modelled p99 {targets.p99_at_target_ms:.0f} ms (objective "
        f"{OBJECTIVE_MS:.0f} ms)"
    )
    data = {
        "date": started_at.isoformat(timespec="seconds"),
        "command": f"python -m bench.capacity{' --quick' if quick else ''}",
        "models": source,
        "cpus": psutil.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "users": QUICK_USERS if quick else USERS,
        "step_seconds": QUICK_STEP_S if quick else STEP_S,
        "headers": HEADERS,
        "rows": rows,
        "steps": [asdict(step) for step in steps],
        "unloaded_p99_ms": unloaded.p99_ms,
        "skipped_workers": skipped,
        "errors_by_workers": errors,
        "targets": asdict(targets),
        "objective_ms": OBJECTIVE_MS,
        "figures": _figures(steps, targets),
    }
    write_results(NAME, data)
    return data


def main(argv: Sequence[str] | None = None) -> None:
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
