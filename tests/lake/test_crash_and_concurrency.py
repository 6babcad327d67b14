"""ACID under crashes and concurrent writers (real processes, SIGKILL at random instants)."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from versioning.lake import ObjectStat
from versioning.lake.local import LocalLake

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.lake.lake_worker", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _assert_consistent(root: Path, *, verify_content: bool = False) -> None:
    lake = LocalLake(root, fsync=False)
    report = lake.fsck("stress", verify_content=verify_content)
    assert report.ok, report.errors
    for branch in lake.list_branches("stress"):
        for obj in lake.list_objects("stress", branch.id):
            assert isinstance(obj, ObjectStat)
            assert lake.stat("stress", branch.id, obj.path) == obj
    for obj in lake.list_objects("stress", "main", "big/"):
        assert isinstance(obj, ObjectStat)
        assert len(lake.read_bytes("stress", "main", obj.path)) == obj.size_bytes


def test_killing_a_writer_at_any_instant_leaves_the_repository_consistent(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    LocalLake(root, fsync=False).create_repository("stress")
    rng = random.Random(42)
    for attempt in range(6):
        worker = _spawn("churn", str(root), str(attempt))
        time.sleep(0.8 + rng.random() * 2.0)  # import (~0.3 s) then work for a while
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        _assert_consistent(root)
    # The repository still takes writes, and a gc cleans what the kills left behind.
    lake = LocalLake(root, fsync=False)
    lake.upload("stress", "main", "after-crashes", b"ok")
    lake.commit("stress", "main", "after crashes")
    lake.gc("stress", retention_days=0)
    _assert_consistent(root, verify_content=True)
    assert lake.read_bytes("stress", "main", "after-crashes") == b"ok"
    merged = [c for c in lake.log("stress", "main") if c.metadata.get("worker")]
    assert merged, "the workers never got a commit through: the test proved nothing"


def test_two_processes_committing_to_one_branch_lose_no_update(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    LocalLake(root, fsync=False).create_repository("stress")
    workers = [_spawn("commits", str(root), name, "15") for name in ("a", "b")]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [o[1][-2000:] for o in outputs]
    lake = LocalLake(root, fsync=False)
    paths = {o.path for o in lake.list_objects("stress", "main")}
    assert paths == {f"commits/{w}/{i}" for w in "ab" for i in range(15)}
    assert lake.uncommitted("stress", "main") == []
    committed = sum(out.count("committed") for out, _ in outputs)
    assert len(lake.log("stress", "main")) == committed + 1
    assert lake.fsck("stress").ok


def test_two_processes_merging_into_main_lose_no_update(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    LocalLake(root, fsync=False).create_repository("stress")
    workers = [_spawn("merges", str(root), name, "10") for name in ("a", "b")]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [o[1][-2000:] for o in outputs]
    lake = LocalLake(root, fsync=False)
    paths = {o.path for o in lake.list_objects("stress", "main")}
    assert paths == {f"merges/{w}/{i}" for w in "ab" for i in range(10)}
    assert [b.id for b in lake.list_branches("stress")] == ["main"]
    assert lake.fsck("stress").ok
