"""Commit latency against repository size: 1 % scattered, 1 % clustered and 10-object changes.

For each size the repository is built once (``upload_many`` + ``commit``), then every case
is repeated and the median ``commit()`` latency (and upload + commit, and ``diff()`` between
the two commits) is compared with the smallest size. A 1 % change grows with the repository
by design (1 % of 100k is 1,000 objects), so the per-object latency is the figure to compare.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._common import (
    Figure,
    bench_main,
    format_table,
    median,
    ms,
    ratio,
    scratch_dir,
    write_results,
)
from versioning.lake.local import LocalLake

NAME = "commit_scaling"
REPO = "bench"
SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
PAYLOAD_BYTES = 200
DAYS = 30
REPS = 3
FIXED_REPS = 9

Items = list[tuple[str, bytes]]


@dataclass
class Case:
    """Samples of one change pattern on one repository size."""

    name: str
    size: int
    changes: int
    fsync: bool = True
    upload_s: list[float] = field(default_factory=list)
    commit_s: list[float] = field(default_factory=list)
    diff_s: list[float] = field(default_factory=list)

    @property
    def commit(self) -> float:
        return median(self.commit_s)

    @property
    def upload_commit(self) -> float:
        return median([u + c for u, c in zip(self.upload_s, self.commit_s, strict=True)])

    @property
    def diff(self) -> float:
        return median(self.diff_s)

    @property
    def key(self) -> str:
        return self.name if self.fsync else f"{self.name} (fsync=False)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.key,
            "size": self.size,
            "changes": self.changes,
            "fsync": self.fsync,
            "median_commit_ms": ms(self.commit),
            "median_upload_commit_ms": ms(self.upload_commit),
            "median_diff_ms": ms(self.diff),
            "commit_ms_per_object": ms(self.commit) / self.changes,
            "samples": {
                "upload_s": self.upload_s,
                "commit_s": self.commit_s,
                "diff_s": self.diff_s,
            },
        }


def object_path(day: int, index: int, month: int = 11) -> str:
    return f"raw/calls/dt=2026-{month:02d}-{day:02d}/part-{index:06d}.json"


def measure(lake: LocalLake, case: Case, reps: int, make_items: Callable[[int], Items]) -> Case:
    """Upload, commit and diff ``reps`` fresh changes, recording each step's time."""
    for rep in range(reps):
        items = make_items(rep)
        before = lake.get_branch(REPO, "main").commit_id
        t0 = time.perf_counter()
        lake.upload_many(REPO, "main", items)
        t1 = time.perf_counter()
        commit = lake.commit(REPO, "main", f"{case.name} {rep}")
        t2 = time.perf_counter()
        entries = lake.diff(REPO, before, commit.id)
        t3 = time.perf_counter()
        if len(entries) != len(items):
            raise RuntimeError(f"{case.key}: diff shows {len(entries)} changes, not {len(items)}")
        upload_s, commit_s, diff_s = t1 - t0, t2 - t1, t3 - t2
        case.upload_s.append(upload_s)
        case.commit_s.append(commit_s)
        case.diff_s.append(diff_s)
    return case


def bench_size(root: Path, size: int, seed: int) -> tuple[dict[str, float], list[Case]]:
    """Build a repository of ``size`` objects, then measure every change pattern on it."""
    rng = random.Random(seed)
    lake = LocalLake(root, fsync=True)
    lake.create_repository(REPO)
    paths = [object_path(i % DAYS + 1, i) for i in range(size)]
    initial = [(p, rng.randbytes(PAYLOAD_BYTES)) for p in paths]
    t0 = time.perf_counter()
    lake.upload_many(REPO, "main", initial)
    t1 = time.perf_counter()
    lake.commit(REPO, "main", "initial load")
    upload_s, commit_s = t1 - t0, time.perf_counter() - t1
    del initial
    build = {"upload_s": upload_s, "commit_s": commit_s, "total_s": upload_s + commit_s}
    one_pct = max(1, size // 100)

    def scattered(count: int) -> Callable[[int], Items]:
        return lambda _rep: [(p, rng.randbytes(PAYLOAD_BYTES)) for p in rng.sample(paths, count)]

    def clustered(rep: int) -> Items:
        day = rep + 1  # a new day partition per repetition
        return [
            (object_path(day, i, month=12), rng.randbytes(PAYLOAD_BYTES)) for i in range(one_pct)
        ]

    cases = [
        measure(lake, Case("1% scattered", size, one_pct), REPS, scattered(one_pct)),
        measure(lake, Case("1% clustered", size, one_pct), REPS, clustered),
        measure(lake, Case("10 objects", size, 10), FIXED_REPS, scattered(10)),
    ]
    no_sync = LocalLake(root, fsync=False)
    sum(1 for _ in no_sync.list_objects(REPO, "main"))  # warm its node cache like the builder's
    cases.append(
        measure(no_sync, Case("10 objects", size, 10, fsync=False), FIXED_REPS, scattered(10))
    )
    return build, cases


def run(quick: bool = False) -> dict[str, Any]:
    sizes = QUICK_SIZES if quick else SIZES
    builds: dict[int, dict[str, float]] = {}
    cases: list[Case] = []
    for size in sizes:
        with scratch_dir(NAME, size * 8_000) as tmp:
            print(f"[{NAME}] building and measuring {size:,} objects ...", flush=True)
            builds[size], size_cases = bench_size(tmp / "lake", size, seed=size)
            cases.extend(size_cases)
    report = report_tables(sizes, builds, cases)
    print(report)
    figures = key_figures(sizes, builds, cases)
    data = {
        "bench": NAME,
        "quick": quick,
        "sizes": list(sizes),
        "payload_bytes": PAYLOAD_BYTES,
        "builds": {str(k): v for k, v in builds.items()},
        "cases": [c.to_dict() for c in cases],
        "ratios": ratio_rows(sizes, cases),
        "figures": figures,
    }
    print(f"[{NAME}] results: {write_results(NAME, data)}")
    return data


def _by(cases: Sequence[Case]) -> dict[tuple[str, int], Case]:
    return {(c.key, c.size): c for c in cases}


def ratio_rows(sizes: Sequence[int], cases: Sequence[Case]) -> list[dict[str, Any]]:
    """Per case and metric: the value at each size divided by the value at the smallest."""
    table = _by(cases)
    base = sizes[0]
    metrics: dict[str, Callable[[Case], float]] = {
        "commit": lambda c: c.commit,
        "upload+commit": lambda c: c.upload_commit,
        "commit per object": lambda c: c.commit / c.changes,
        "diff": lambda c: c.diff,
    }
    rows = []
    for key in dict.fromkeys(c.key for c in cases):
        for metric, get in metrics.items():
            row: dict[str, Any] = {"case": key, "metric": metric}
            for size in sizes[1:]:
                row[f"{_short(size)}/{_short(base)}"] = ratio(
                    get(table[key, size]), get(table[key, base])
                )
            rows.append(row)
    return rows


def _short(size: int) -> str:
    return f"{size // 1000}k" if size >= 1000 and size % 1000 == 0 else str(size)


def report_tables(
    sizes: Sequence[int], builds: dict[int, dict[str, float]], cases: list[Case]
) -> str:
    build_rows = [
        [f"{s:,}", b["upload_s"], b["commit_s"], b["total_s"], s / b["total_s"]]
        for s, b in builds.items()
    ]
    case_rows = [
        [
            f"{c.size:,}",
            c.key,
            c.changes,
            ms(c.commit),
            ms(c.upload_commit),
            ms(c.commit) / c.changes,
            ms(c.diff),
        ]
        for c in cases
    ]
    ratios = ratio_rows(sizes, cases)
    ratio_headers = ["case", "metric", *[k for k in ratios[0] if "/" in k]]
    return "\n\n".join(
        [
            "Repository build (upload_many + commit, fsync=True)",
            format_table(["objects", "upload s", "commit s", "total s", "objects/s"], build_rows),
            f"Change latency (median of {REPS} reps; {FIXED_REPS} for 10 objects)",
            format_table(
                [
                    "objects",
                    "case",
                    "changes",
                    "commit ms",
                    "upload+commit ms",
                    "commit ms/obj",
                    "diff ms",
                ],
                case_rows,
            ),
            "Ratios against the smallest repository",
            format_table(ratio_headers, [[r[h] for h in ratio_headers] for r in ratios]),
        ]
    )


def key_figures(
    sizes: Sequence[int], builds: dict[int, dict[str, float]], cases: list[Case]
) -> list[Figure]:
    table = _by(cases)
    small, big = sizes[0], sizes[-1]
    label = f"{_short(big)}/{_short(small)}"
    figures = [Figure(NAME, f"build {big:,} objects", builds[big]["total_s"], "s")]
    for key in ("1% scattered", "1% clustered"):
        a, b = table[key, small], table[key, big]
        figures.append(
            Figure(
                NAME,
                f"{key}: commit {label}",
                ratio(b.commit, a.commit),
                "x",
                f"grows with change ({b.changes // a.changes}x by design)",
            )
        )
        per_obj = ratio(b.commit / b.changes, a.commit / a.changes)
        figures.append(
            Figure(NAME, f"{key}: commit per object {label}", per_obj, "x", "<= 2", per_obj <= 2)
        )
    fixed_small, fixed_big = table["10 objects", small], table["10 objects", big]
    fixed = ratio(fixed_big.commit, fixed_small.commit)
    figures += [
        Figure(NAME, f"10 objects: commit {label}", fixed, "x", "<= 2", fixed <= 2),
        Figure(NAME, f"10 objects: commit at {_short(big)}", ms(fixed_big.commit), "ms"),
        Figure(
            NAME,
            f"10 objects: diff {label}",
            ratio(fixed_big.diff, fixed_small.diff),
            "x",
        ),
    ]
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
