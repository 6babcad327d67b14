"""Shared helpers: argument parsing, timing, scratch space, result files and tables."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
VENV_BIN = PROJECT_DIR / ".venv" / "bin"
SCRATCH_ROOT = Path("/tmp")
MB = 1_000_000
MiB = 1 << 20
CHUNK = 1 << 20

T = TypeVar("T")


@dataclass
class Figure:
    """One key figure of a benchmark, for the summary table."""

    bench: str
    name: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None

    def status(self) -> str:
        if self.met is None:
            return "info"
        return "met" if self.met else "NOT MET"


def parse_args(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    return parser.parse_args(argv)


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Seconds taken by ``fn()`` and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


@contextmanager
def scratch_dir(name: str, need_bytes: int) -> Iterator[Path]:
    """A temp dir under /tmp (checked for ``need_bytes`` free), removed afterwards."""
    free = shutil.disk_usage(SCRATCH_ROOT).free
    if free < need_bytes * 1.2:
        raise SystemExit(
            f"bench {name}: needs {need_bytes / 1e9:.1f} GB free in {SCRATCH_ROOT}, "
            f"only {free / 1e9:.1f} GB available"
        )
    path = Path(tempfile.mkdtemp(prefix=f"voiceops-bench-{name}-", dir=SCRATCH_ROOT))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def write_random_file(path: Path, size: int, block: int = 64 * MiB) -> None:
    """``size`` random bytes, generated and written in blocks (never all in memory)."""
    with open(path, "wb") as out:
        left = size
        while left:
            n = min(block, left)
            out.write(os.urandom(n))
            left -= n


def read_through(path: Path) -> None:
    """Read a file once so that later reads come from the page cache."""
    with open(path, "rb", buffering=0) as src:
        while src.read(CHUNK):
            pass


def drop_dirty_pages() -> None:
    """Flush dirty pages so one measurement's write-back does not slow the next."""
    os.sync()


def write_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"{name}.json"
    out.write_text(json.dumps(data, indent=2, default=_jsonable) + "\n")
    return out


def _jsonable(value: object) -> object:
    if isinstance(value, Figure):
        return asdict(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table with right-aligned numbers."""
    cells = [[_cell(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    numeric = [all(_is_number(row[i]) for row in rows) and bool(rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(list(headers)), sep, *(line(r) for r in cells)])


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell(value: object) -> str:
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:.2f}"
        return f"{value:.3g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def figures_table(figures: Sequence[Figure]) -> str:
    rows = [
        [f.bench, f.name, _cell(f.value) + (f" {f.unit}" if f.unit else ""), f.target, f.status()]
        for f in figures
    ]
    return format_table(["bench", "figure", "value", "target", "status"], rows)


def ms(seconds: float) -> float:
    return seconds * 1000.0


def bench_main(doc: str, run: Callable[..., dict[str, Any]], argv: Sequence[str] | None) -> None:
    """The command line of one benchmark module: ``--quick``, run, print its figures."""
    args = parse_args(doc.splitlines()[0], argv)
    data = run(quick=args.quick)
    print()
    print(figures_table(data["figures"]))
