"""CLI start-up: `voiceops --help` and `voiceops lake commit` against `python -c pass` and git.

Builds (in a temp dir) a local lake repository of 20,000 small objects and a git repository
of the same files, then for several rounds changes 1 % of the objects in both (not timed)
and times, each as a fresh process: ``voiceops --help``, ``python -c pass`` (the interpreter
alone), ``voiceops lake commit`` and ``git add -A && git commit``. Each side keeps its default
durability (the lake fsyncs its objects and catalog; git its own default). Python writes and
reuses its bytecode caches as in a user's installation (``PYTHONDONTWRITEBYTECODE`` is
dropped; one warm-up run of each command fills them). Rounds interleave the commands so that
load from other processes hits all of them alike; the medians and their ratios are printed.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench._common import (
    VENV_BIN,
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

NAME = "cli_startup"
REPO = "bench"
OBJECTS = 20_000
QUICK_OBJECTS = 5_000
PAYLOAD_BYTES = 200
ROUNDS = 7
QUICK_ROUNDS = 3
HELP_TARGET_S = 0.12


def object_path(index: int) -> str:
    return f"raw/calls/dt=2026-01-{index % 30 + 1:02d}/part-{index:06d}.json"


def _run(argv: Sequence[str], env: dict[str, str], cwd: Path | None = None) -> float:
    """Seconds the command took as a fresh process; it must succeed."""
    start = time.perf_counter()
    done = subprocess.run(list(argv), env=env, cwd=cwd, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode(errors='replace')}"
        )
    return elapsed


def _git(work: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=work, check=True, capture_output=True)


def build(root: Path, objects: int, seed: int) -> tuple[LocalLake, Path, list[str]]:
    """The lake repository and the git work tree, with the same ``objects`` files committed."""
    rng = random.Random(seed)
    paths = [object_path(i) for i in range(objects)]
    payloads = [rng.randbytes(PAYLOAD_BYTES) for _ in paths]
    lake = LocalLake(root / "home" / "lake")
    lake.create_repository(REPO)
    lake.upload_many(REPO, "main", zip(paths, payloads, strict=True))
    lake.commit(REPO, "main", "initial load")
    work = root / "git"
    for path, payload in zip(paths, payloads, strict=True):
        file = work / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(payload)
    _git(work, "init", "-q", "-b", "main")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "initial load")
    return lake, work, paths


def run(quick: bool = False) -> dict[str, Any]:
    objects = QUICK_OBJECTS if quick else OBJECTS
    rounds = QUICK_ROUNDS if quick else ROUNDS
    changes = max(1, objects // 100)
    rng = random.Random(objects)
    samples: dict[str, list[float]] = {"pass": [], "help": [], "lake": [], "git": []}
    python, voiceops = str(VENV_BIN / "python"), str(VENV_BIN / "voiceops")
    with scratch_dir(NAME, objects * 20_000) as root:
        print(f"[{NAME}] building a lake and a git repository of {objects:,} objects ...")
        lake, work, paths = build(root, objects, seed=objects)
        env = dict(os.environ, VOICEOPS_HOME=str(root / "home"), VOICEOPS_LAKE_BACKEND="local")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.invalid")
        env.update(GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.invalid")
        commit = [voiceops, "lake", "commit", f"lakefs://{REPO}/main", "-m", "change"]
        git_commit = ["sh", "-c", "git add -A && git commit -q -m change"]
        # Warm-up: the page cache, and the bytecode caches of every module the commands load.
        _run([python, "-c", "pass"], env)
        _run([voiceops, "--help"], env)
        _run([*commit, "--allow-empty"], env)
        for n in range(rounds):
            change = [(p, rng.randbytes(PAYLOAD_BYTES)) for p in rng.sample(paths, changes)]
            lake.upload_many(REPO, "main", change)
            for path, payload in change:
                (work / path).write_bytes(payload)
            os.sync()  # the changes' write-back is not charged to the commits
            samples["pass"].append(_run([python, "-c", "pass"], env))
            samples["help"].append(_run([voiceops, "--help"], env))
            order = [("lake", commit, None), ("git", git_commit, work)]
            for name, argv, cwd in order if n % 2 == 0 else order[::-1]:
                samples[name].append(_run(argv, env, cwd))
        log = lake.log(REPO, "main")
        if len(log) != rounds + 3:  # creation, initial load, warm-up, one per round
            raise RuntimeError(f"expected {rounds + 3} lake commits, found {len(log)}")
    data = report(objects, changes, rounds, samples)
    print(f"[{NAME}] results: {write_results(NAME, data)}")
    return data


def report(
    objects: int, changes: int, rounds: int, samples: dict[str, list[float]]
) -> dict[str, Any]:
    med = {name: median(values) for name, values in samples.items()}
    rows = [
        ["python -c pass", ms(med["pass"]), 1.0],
        ["voiceops --help", ms(med["help"]), ratio(med["help"], med["pass"])],
        ["voiceops lake commit", ms(med["lake"]), ratio(med["lake"], med["pass"])],
        ["git add -A && git commit", ms(med["git"]), ratio(med["git"], med["pass"])],
    ]
    print(
        f"\nStart-up and a {changes:,}-object (1 %) commit on {objects:,} objects "
        f"(median of {rounds} rounds, fresh processes)"
    )
    print(format_table(["command", "median ms", "x python -c pass"], rows))
    lake_vs_git = ratio(med["lake"], med["git"])
    print(f"\nvoiceops lake commit / git add -A && git commit: {lake_vs_git:.2f}")
    print(f"voiceops --help / python -c pass: {ratio(med['help'], med['pass']):.2f}")
    figures = [
        Figure(
            NAME,
            "voiceops --help",
            med["help"],
            "s",
            f"<= {HELP_TARGET_S} s",
            med["help"] <= HELP_TARGET_S,
        ),
        Figure(NAME, "voiceops --help / python -c pass", ratio(med["help"], med["pass"]), "x"),
        Figure(
            NAME,
            f"lake commit / git commit ({changes} of {objects:,} objects)",
            lake_vs_git,
            "x",
            "< 1",
            lake_vs_git < 1,
        ),
    ]
    return {
        "bench": NAME,
        "objects": objects,
        "changes": changes,
        "rounds": rounds,
        "median_s": med,
        "samples_s": samples,
        "figures": figures,
    }


if __name__ == "__main__":
    bench_main(__doc__, run, sys.argv[1:])
