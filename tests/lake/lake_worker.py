"""A separate process that hammers a local lake; the crash and concurrency tests drive it.

python -m tests.lake.lake_worker churn ROOT WORKER_ID        # until killed
python -m tests.lake.lake_worker commits ROOT WORKER_ID N     # N commits on main
python -m tests.lake.lake_worker merges ROOT WORKER_ID N      # N branch+commit+merge
"""

from __future__ import annotations

import itertools
import os
import sys

from versioning.lake import NothingToCommitError
from versioning.lake.local import LocalLake

REPO = "stress"


def churn(lake: LocalLake, worker: str) -> None:
    """Uploads (small and multi-MiB), commits and merges forever."""
    big = os.urandom(3 << 20)
    for i in itertools.count():
        branch = f"w{worker}-{i}"
        lake.create_branch(REPO, branch, "main")
        lake.upload(REPO, branch, f"big/{worker}-{i}.bin", big + str(i).encode())
        lake.upload_many(
            REPO, branch, ((f"small/{worker}/{i}/{j}", os.urandom(64)) for j in range(50))
        )
        lake.commit(REPO, branch, f"work {i}", {"worker": worker})
        lake.merge(REPO, branch, "main", strategy="source-wins")
        lake.delete_branch(REPO, branch)
        print(i, flush=True)


def commits(lake: LocalLake, worker: str, count: int) -> None:
    """Each iteration stages one file on main and commits it; reports what landed."""
    for i in range(count):
        lake.upload(REPO, "main", f"commits/{worker}/{i}", f"{worker}-{i}".encode())
        try:
            lake.commit(REPO, "main", f"{worker} {i}")
            print("committed", flush=True)
        except NothingToCommitError:
            print("absorbed", flush=True)  # the other writer's commit took our staged file


def merges(lake: LocalLake, worker: str, count: int) -> None:
    for i in range(count):
        branch = f"m{worker}-{i}"
        lake.create_branch(REPO, branch, "main")
        lake.upload(REPO, branch, f"merges/{worker}/{i}", f"{worker}-{i}".encode())
        lake.commit(REPO, branch, f"{worker} {i}")
        lake.merge(REPO, branch, "main")
        lake.delete_branch(REPO, branch)


def main(argv: list[str]) -> None:
    mode, root, worker = argv[:3]
    lake = LocalLake(root, fsync=False, lock_timeout_s=120)
    if mode == "churn":
        churn(lake, worker)
    elif mode == "commits":
        commits(lake, worker, int(argv[3]))
    elif mode == "merges":
        merges(lake, worker, int(argv[3]))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1:])
