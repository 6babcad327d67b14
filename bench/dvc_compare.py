"""The lake against DVC on the same directory of small files: first add, then a 1 % change.

DVC runs in a fresh ``git init`` + ``dvc init`` repository (``dvc add data`` + git commit of
``data.dvc``); the lake uploads the whole directory (API ``upload_many`` and the
``voiceops lake fs upload --recursive`` CLI) and commits. For the change, 1 % of the files
get new content and every tool re-processes the whole directory the way a user would.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench._common import (
    VENV_BIN,
    Figure,
    bench_main,
    format_table,
    ratio,
    scratch_dir,
    write_results,
)
from versioning.lake.base import iter_source_files
from versioning.lake.local import LocalLake

NAME = "dvc_compare"
FILES = 10_000
QUICK_FILES = 2_000
PAYLOAD_BYTES = 200
DAYS = 30
REPO = "bench"
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@local", "-c", "commit.gpgsign=false"]
STEPS = ("add all", "1% change")
ROUNDS = 2


def make_files(root: Path, count: int, rng: random.Random) -> list[Path]:
    files = []
    for i in range(count):
        file = root / f"dt=2026-11-{i % DAYS + 1:02d}" / f"part-{i:06d}.json"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(rng.randbytes(PAYLOAD_BYTES))
        files.append(file)
    return files


def sh(args: Sequence[str | Path], cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}")


def clock(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


class Dvc:
    """``dvc add data`` + git commit in a fresh repository."""

    name = "dvc (add + git commit)"

    def __init__(self, tmp: Path, source: Path):
        self.repo = tmp / "dvc-repo"
        self.repo.mkdir()
        shutil.copytree(source, self.repo / "data")
        self.env = {
            **os.environ,
            "DVC_NO_ANALYTICS": "1",
            "DVC_SITE_CACHE_DIR": str(tmp / "dvc-site-cache"),
            "DVC_GLOBAL_CONFIG_DIR": str(tmp / "dvc-global-config"),
        }
        sh(["git", "init", "-q"], self.repo, self.env)
        sh([VENV_BIN / "dvc", "init", "-q"], self.repo, self.env)
        sh([*GIT, "commit", "-q", "-m", "dvc init"], self.repo, self.env)
        self.data = self.repo / "data"

    def step(self, label: str) -> float:
        return clock(
            lambda: (
                sh([VENV_BIN / "dvc", "add", "-q", "data"], self.repo, self.env),
                sh([*GIT, "add", "data.dvc", ".gitignore"], self.repo, self.env),
                sh([*GIT, "commit", "-q", "-m", label], self.repo, self.env),
            )
        )


class LakeApi:
    """``upload_many`` of every file under the directory + ``commit``."""

    def __init__(self, tmp: Path, source: Path, fsync: bool):
        self.name = f"lake API (fsync={fsync})"
        self.lake = LocalLake(tmp / f"lake-api-{fsync}", fsync=fsync)
        self.lake.create_repository(REPO)
        self.data = source

    def step(self, label: str) -> float:
        def upload_and_commit() -> None:
            items = ((f"data/{rel}", file) for rel, file in iter_source_files(self.data))
            self.lake.upload_many(REPO, "main", items)
            self.lake.commit(REPO, "main", label)

        return clock(upload_and_commit)


class LakeCli:
    """``voiceops lake fs upload --recursive`` + ``voiceops lake commit``."""

    name = "lake CLI (voiceops)"

    def __init__(self, tmp: Path, source: Path):
        self.env = {
            **os.environ,
            "VOICEOPS_HOME": str(tmp / "voiceops-home"),
            "VOICEOPS_LAKE_BACKEND": "local",
        }
        self.cwd = tmp
        self.data = source
        sh([VENV_BIN / "voiceops", "lake", "repo", "create", f"lakefs://{REPO}"], tmp, self.env)

    def step(self, label: str) -> float:
        exe = VENV_BIN / "voiceops"
        upload = [exe, "lake", "fs", "upload", f"lakefs://{REPO}/main/data/"]
        upload += ["--source", self.data, "--recursive"]
        commit = [exe, "lake", "commit", f"lakefs://{REPO}/main", "-m", label]
        return clock(lambda: (sh(upload, self.cwd, self.env), sh(commit, self.cwd, self.env)))


def change_files(dirs: Sequence[Path], relative: Sequence[str], rng: random.Random) -> None:
    """Give the same new content to the same files in every copy of the directory."""
    for rel in relative:
        content = rng.randbytes(PAYLOAD_BYTES)
        for root in dirs:
            (root / rel).write_bytes(content)


def one_round(count: int, seed: int) -> dict[str, dict[str, float]]:
    """Both steps for every tool on a fresh directory of ``count`` files."""
    rng = random.Random(seed)
    times: dict[str, dict[str, float]] = {}
    with scratch_dir(NAME, count * 40_000) as tmp:
        source = tmp / "source" / "data"
        files = make_files(source, count, rng)
        tools = [Dvc(tmp, source), LakeApi(tmp, source, True), LakeCli(tmp, source)]
        tools.append(LakeApi(tmp, source, False))
        for tool in tools:
            times[tool.name] = {STEPS[0]: tool.step("add all")}
        relative = [f.relative_to(source).as_posix() for f in rng.sample(files, count // 100)]
        change_files([source, tools[0].data], relative, rng)
        for tool in tools:
            times[tool.name][STEPS[1]] = tool.step("1% change")
    return times


def run(quick: bool = False) -> dict[str, Any]:
    count = QUICK_FILES if quick else FILES
    rounds = 1 if quick else ROUNDS
    samples: list[dict[str, dict[str, float]]] = []
    for n in range(rounds):
        print(f"[{NAME}] {count:,} files, round {n + 1}/{rounds}: dvc, lake API, lake CLI ...")
        samples.append(one_round(count, seed=count + n))
    times = {
        tool: {step: min(s[tool][step] for s in samples) for step in STEPS} for tool in samples[0]
    }
    dvc = times[Dvc.name]
    rows = [
        [
            name,
            t[STEPS[0]],
            t[STEPS[1]],
            ratio(dvc[STEPS[0]], t[STEPS[0]]),
            ratio(dvc[STEPS[1]], t[STEPS[1]]),
        ]
        for name, t in times.items()
    ]
    print(
        f"Same {count:,} files ({PAYLOAD_BYTES} B each), best of {rounds} round(s): seconds, "
        "and DVC time / tool time\n"
    )
    print(
        format_table(
            ["tool", "add all s", "1% change s", "dvc/tool (add)", "dvc/tool (change)"], rows
        )
    )
    figures = []
    for name in ("lake API (fsync=True)", LakeCli.name):
        for step in STEPS:
            value = ratio(dvc[step], times[name][step])
            figures.append(Figure(NAME, f"dvc/{name}: {step}", value, "x", "> 1", value > 1))
    data = {
        "bench": NAME,
        "quick": quick,
        "files": count,
        "changed": count // 100,
        "rounds": rounds,
        "seconds": times,
        "samples": samples,
        "figures": figures,
    }
    print(f"[{NAME}] results: {write_results(NAME, data)}")
    return data


def main(argv: Sequence[str] | None = None) -> None:
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
