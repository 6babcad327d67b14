"""One bounded Locust run in its own process (never imported here: gevent would patch this
interpreter), its summary read back from Locust's CSV, and the CPU it and others used."""

from __future__ import annotations

import csv
import importlib.util
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

LOCUSTFILE = Path(__file__).resolve().parent / "_locustfile.py"
#: seconds a run may take beyond its --run-time (start-up, stopping users) before it is killed
GRACE_S = 60


@dataclass(frozen=True)
class LocustRun:
    """Locust's aggregated figures for one run, and the CPU seconds spent meanwhile."""

    turns: int
    failures: int
    turns_per_s: float
    p50_ms: float
    p99_ms: float
    wall_s: float
    server_cpu_s: float  # the server's process tree
    locust_cpu_s: float  # the Locust process
    bank_cpu_s: float  # the bank's process (the API's back end), when one was given
    errors: dict[str, int]  # Locust's failure messages -> occurrences

    @property
    def answered_per_s(self) -> float:
        """Turns answered (not failed) per second: Locust's rate counts failures too."""
        return self.turns_per_s * (self.turns - self.failures) / self.turns if self.turns else 0.0

    machine_cpu_s: float  # every process on the machine


def locust_installed() -> bool:
    """Whether Locust can be started (found without importing it)."""
    return importlib.util.find_spec("locust") is not None


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` and all its descendants."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _machine_cpu_seconds() -> float:
    times = psutil.cpu_times()
    return (
        times.user
        + times.system
        + times.nice
        + getattr(times, "irq", 0.0)
        + getattr(times, "softirq", 0.0)
    )


def _reaped_children_cpu_seconds() -> float:
    """CPU seconds of this process's children that have exited and been waited for (the
    Locust run, once ``wait`` has reaped it; the server is still running)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_locust(
    host: str,
    users: int,
    run_time_s: int,
    env: dict[str, str],
    server_pid: int,
    bank_pid: int | None = None,
) -> LocustRun:
    """``users`` Locust users (all spawned at once) against ``host`` for ``run_time_s``;
    killed if it runs ``GRACE_S`` longer. ``env`` is added to the locustfile's environment."""
    with tempfile.TemporaryDirectory(prefix="voiceops-locust-") as tmp:
        prefix = Path(tmp) / "run"
        command = [
            sys.executable,
            "-m",
            "locust",
            "--headless",
            "--only-summary",
            "-f",
            str(LOCUSTFILE),
            "--host",
            host,
            "-u",
            str(users),
            "-r",
            str(users),
            "--run-time",
            f"{run_time_s}s",
            "--stop-timeout",
            "30",
            "--csv",
            str(prefix),
            "--exit-code-on-error",
            "0",
        ]
        server_before, machine_before = tree_cpu_seconds(server_pid), _machine_cpu_seconds()
        reaped_before = _reaped_children_cpu_seconds()
        bank_before = tree_cpu_seconds(bank_pid) if bank_pid else 0.0
        started = time.perf_counter()
        log = prefix.with_name("locust.log")
        with log.open("w") as out:
            process = subprocess.Popen(command, env=os.environ | env, stdout=out, stderr=out)
            try:
                process.wait(timeout=run_time_s + GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise RuntimeError(f"locust ran past {run_time_s + GRACE_S} s, killed") from None
        wall = time.perf_counter() - started
        locust_cpu = _reaped_children_cpu_seconds() - reaped_before
        server_cpu = tree_cpu_seconds(server_pid) - server_before
        bank_cpu = tree_cpu_seconds(bank_pid) - bank_before if bank_pid else 0.0
        machine_cpu = _machine_cpu_seconds() - machine_before
        stats = prefix.with_name("run_stats.csv")
        row = _aggregated(stats) if stats.exists() else {}
        errors = _errors(prefix.with_name("run_failures.csv"))
        if process.returncode != 0 or not int(row.get("Request Count", 0)):
            tail = log.read_text()[-2000:]
            raise RuntimeError(f"locust exited {process.returncode}, no turns recorded: {tail}")
    return LocustRun(
        turns=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        turns_per_s=float(row["Requests/s"]),
        p50_ms=float(row["50%"]),
        p99_ms=float(row["99%"]),
        wall_s=wall,
        server_cpu_s=server_cpu,
        locust_cpu_s=locust_cpu,
        bank_cpu_s=bank_cpu,
        machine_cpu_s=machine_cpu,
        errors=errors,
    )


def _aggregated(stats: Path) -> dict[str, str]:
    with stats.open(newline="") as rows:
        for row in csv.DictReader(rows):
            if row["Name"] == "Aggregated":
                return row
    raise RuntimeError(f"no Aggregated row in {stats}")


def _errors(failures: Path) -> dict[str, int]:
    if not failures.exists():
        return {}
    with failures.open(newline="") as rows:
        return {row["Error"][:200]: int(row["Occurrences"]) for row in csv.DictReader(rows)}
