"""Peak memory (RSS) of a process uploading, then downloading, a large file.

Each step runs in its own child Python process, which reports its own peak RSS
(``VmHWM``) when done; the baseline child only imports the lake and opens the repository.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench._common import (
    MB,
    PROJECT_DIR,
    Figure,
    MiB,
    bench_main,
    format_table,
    scratch_dir,
    write_random_file,
    write_results,
)

NAME = "upload_memory"
REPO = "bench"
OBJECT = "raw/audio/big.bin"
SIZE = 2048 * MiB
QUICK_SIZE = 512 * MiB
TARGET_MB = 200.0
ACTIONS = ("baseline", "upload", "download")


def child(action: str, root: str, source: str, destination: str) -> None:
    """Body of a child process: do ``action``, then print its peak RSS as JSON."""
    start = time.perf_counter()
    from versioning.lake.local import LocalLake

    lake = LocalLake(root)
    lake.get_repository(REPO)
    if action == "upload":
        lake.upload(REPO, "main", OBJECT, Path(source))
        lake.commit(REPO, "main", "big file")
    elif action == "download":
        lake.download(REPO, "main", OBJECT, destination)
    elif action != "baseline":
        raise SystemExit(f"unknown action {action}")
    seconds = time.perf_counter() - start
    print(json.dumps({"peak_rss_bytes": peak_rss_bytes(), "seconds": seconds}))


def peak_rss_bytes() -> int:
    """This process's peak RSS: ``VmHWM`` (reset by exec, unlike ``ru_maxrss``, which
    inherits the parent's peak through fork + exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_child(action: str, root: Path, source: Path, destination: Path) -> dict[str, float]:
    code = (
        "import sys; from bench.upload_memory import child; "
        "child(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, action, str(root), str(source), str(destination)],
        cwd=PROJECT_DIR,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(quick: bool = False) -> dict[str, Any]:
    from versioning.lake.local import LocalLake

    size = QUICK_SIZE if quick else SIZE
    results: dict[str, dict[str, float]] = {}
    with scratch_dir(NAME, 3 * size) as tmp:
        source, root, destination = tmp / "source.bin", tmp / "lake", tmp / "download.bin"
        print(f"[{NAME}] writing {size // MiB} MiB of random bytes ...", flush=True)
        write_random_file(source, size)
        LocalLake(root).create_repository(REPO)
        for action in ACTIONS:
            results[action] = run_child(action, root, source, destination)
        if destination.stat().st_size != size:
            raise RuntimeError(f"downloaded {destination.stat().st_size} bytes, not {size}")
    base = results["baseline"]["peak_rss_bytes"]
    rows = [
        [
            action,
            r["peak_rss_bytes"] / MB,
            (r["peak_rss_bytes"] - base) / MB,
            r["seconds"],
            f"< {TARGET_MB:g} MB" if action != "baseline" else "",
        ]
        for action, r in results.items()
    ]
    print(f"Peak RSS of child processes, {size // MiB} MiB object\n")
    print(format_table(["child", "peak RSS MB", "over baseline MB", "seconds", "target"], rows))
    figures = [Figure(NAME, "baseline child peak RSS", base / MB, "MB")]
    for action in ("upload", "download"):
        peak = results[action]["peak_rss_bytes"] / MB
        figures.append(
            Figure(
                NAME,
                f"{action} {size // MiB} MiB: peak RSS",
                peak,
                "MB",
                f"< {TARGET_MB:g} MB",
                peak < TARGET_MB,
            )
        )
    data = {
        "bench": NAME,
        "quick": quick,
        "size_bytes": size,
        "children": results,
        "figures": figures,
    }
    print(f"[{NAME}] results: {write_results(NAME, data)}")
    return data


def main(argv: Sequence[str] | None = None) -> None:
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
