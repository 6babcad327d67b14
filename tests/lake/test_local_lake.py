"""Properties of the local backend beyond the contract: storage, gc, fsck, sharing, memory."""

from __future__ import annotations

import os
import sqlite3
import time
import tracemalloc
from pathlib import Path

import pytest

from versioning.lake import ObjectGoneError, ObjectStat
from versioning.lake.local import LocalLake
from versioning.lake.local.backend import CATALOG_FILE


@pytest.fixture
def lake(tmp_path: Path) -> LocalLake:
    lake = LocalLake(tmp_path / "lake", fsync=False)
    lake.create_repository("repo")
    return lake


def _catalog(lake: LocalLake) -> sqlite3.Connection:
    return sqlite3.connect(lake.root / "repo" / CATALOG_FILE)


def _object_files(lake: LocalLake) -> list[Path]:
    return [p for p in (lake.root / "repo" / "objects").rglob("*") if p.is_file()]


def test_identical_content_is_stored_once(lake: LocalLake) -> None:
    payload = os.urandom(3 << 20)  # above the in-memory threshold: goes through a temp file
    for i in range(3):
        lake.upload("repo", "main", f"copy{i}.bin", payload)
    lake.upload("repo", "main", "small-a", b"same")
    lake.upload("repo", "main", "small-b", b"same")
    assert len(_object_files(lake)) == 2
    assert not list((lake.root / "repo" / "objects" / ".tmp").glob("*"))


def test_reupload_of_identical_content_is_not_a_change(lake: LocalLake) -> None:
    lake.upload("repo", "main", "a.txt", b"a")
    lake.commit("repo", "main", "a")
    lake.upload("repo", "main", "a.txt", b"a")
    assert lake.uncommitted("repo", "main") == []


def test_merge_fast_forwards_unless_told_not_to(lake: LocalLake) -> None:
    for name in ("ff", "no-ff"):
        lake.create_branch("repo", name, "main")
        lake.upload("repo", name, f"{name}.txt", name.encode())
        lake.commit("repo", name, name)
    head = lake.get_branch("repo", "ff").commit_id
    assert lake.merge("repo", "ff", "main").fast_forward
    assert lake.get_branch("repo", "main").commit_id == head
    lake.create_branch("repo", "later", "main")
    lake.upload("repo", "later", "later.txt", b"l")
    later = lake.commit("repo", "later", "later")
    result = lake.merge("repo", "later", "main", allow_fast_forward=False)
    assert not result.fast_forward
    assert lake.get_commit("repo", "main").parents == (head, later.id)
    assert lake.merge_base("repo", "main", "no-ff") == lake.get_commit("repo", "no-ff~1").id


def test_a_small_change_rewrites_few_tree_nodes(lake: LocalLake) -> None:
    lake.upload_many("repo", "main", ((f"d/{i:05d}.txt", str(i).encode()) for i in range(5000)))
    base = lake.commit("repo", "main", "5000 files")
    with _catalog(lake) as conn:
        nodes_before = conn.execute("SELECT count(*) FROM nodes").fetchone()[0]
    lake.upload("repo", "main", "d/02500.txt", b"changed")
    head = lake.commit("repo", "main", "one change")
    with _catalog(lake) as conn:
        nodes_after = conn.execute("SELECT count(*) FROM nodes").fetchone()[0]
    assert nodes_before > 50
    assert nodes_after - nodes_before <= 4  # one leaf and its ancestors
    assert [d.path for d in lake.diff("repo", base.id, head.id)] == ["d/02500.txt"]


def test_gc_deletes_unreachable_objects_and_reads_say_gone(lake: LocalLake) -> None:
    old = lake.upload("repo", "main", "model.bin", b"old weights")
    first = lake.commit("repo", "main", "v1")
    lake.upload("repo", "main", "model.bin", b"new weights")
    lake.upload("repo", "main", "kept-by-tag.bin", b"tagged")
    lake.commit("repo", "main", "v2")
    lake.create_tag("repo", "v2", "main")
    lake.upload("repo", "main", "kept-by-tag.bin", b"replaced")
    lake.upload("repo", "main", "staged.bin", b"uncommitted")
    lake.commit("repo", "main", "v3")
    lake.upload("repo", "main", "wip.bin", b"staged only")

    kept = lake.gc("repo", retention_days=7)
    assert kept.deleted_objects == 0

    # Make every commit older than the retention period.
    with _catalog(lake) as conn:
        conn.execute("UPDATE commits SET created = created - 30 * 86400")
        conn.execute("UPDATE objects SET created = created - 30 * 86400")
    report = lake.gc("repo", retention_days=7)
    assert report.deleted_objects == 1
    assert report.deleted_bytes == old.size_bytes
    with pytest.raises(ObjectGoneError, match="garbage-collected"):
        lake.read_bytes("repo", first.id, "model.bin")
    assert lake.read_bytes("repo", "main", "model.bin") == b"new weights"
    assert lake.read_bytes("repo", "v2", "kept-by-tag.bin") == b"tagged"
    assert lake.read_bytes("repo", "main", "wip.bin") == b"staged only"
    assert lake.fsck("repo").ok


def test_gc_keeps_objects_that_left_the_head_within_the_retention(lake: LocalLake) -> None:
    lake.upload("repo", "main", "a", b"first")
    first = lake.commit("repo", "main", "first")
    with _catalog(lake) as conn:  # the first version was committed long ago...
        conn.execute("UPDATE commits SET created = created - 30 * 86400 WHERE id = ?", (first.id,))
        conn.execute("UPDATE objects SET created = created - 30 * 86400")
    lake.upload("repo", "main", "a", b"second")  # ...but replaced only now
    lake.commit("repo", "main", "second")
    assert lake.gc("repo", retention_days=7).deleted_objects == 0
    assert lake.read_bytes("repo", first.id, "a") == b"first"


def test_gc_removes_files_left_by_interrupted_uploads(lake: LocalLake) -> None:
    orphan = lake.root / "repo" / "objects" / "ab" / "cd" / ("abcd" + "0" * 60)
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"half an upload")
    old = time.time() - 30 * 86400
    os.utime(orphan, (old, old))
    assert any("orphan" in w for w in lake.fsck("repo").warnings)
    assert lake.gc("repo", retention_days=7).deleted_objects == 1
    assert not orphan.exists()


def test_fsck_finds_missing_truncated_and_tampered_objects(lake: LocalLake) -> None:
    for name in ["a", "b", "c"]:
        lake.upload("repo", "main", name, name.encode() * 100)
    lake.commit("repo", "main", "abc")
    assert lake.fsck("repo", verify_content=True).ok
    stats = {o.path: o for o in lake.list_objects("repo", "main") if isinstance(o, ObjectStat)}
    store = lake.root / "repo" / "objects"

    def file_of(path: str) -> Path:
        cs = stats[path].checksum
        return store / cs[:2] / cs[2:4] / cs

    file_of("a").unlink()
    file_of("b").write_bytes(b"short")
    file_of("c").write_bytes(b"C" * 100)  # same size, other content
    quick = lake.fsck("repo")
    assert len(quick.errors) == 2
    full = lake.fsck("repo", verify_content=True)
    assert len(full.errors) == 3
    assert any("missing" in e for e in full.errors)
    assert any("does not match" in e for e in full.errors)


def test_fsck_finds_a_missing_tree_node(lake: LocalLake) -> None:
    lake.upload_many("repo", "main", ((f"f{i}", str(i).encode()) for i in range(300)))
    lake.commit("repo", "main", "many")
    with _catalog(lake) as conn:
        conn.execute("DELETE FROM nodes WHERE id = (SELECT min(id) FROM nodes)")
    report = LocalLake(lake.root, fsync=False).fsck("repo")
    assert not report.ok
    assert any("missing" in e for e in report.errors)


def test_upload_and_download_stream_in_constant_memory(lake: LocalLake, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with open(big, "wb") as out:
        chunk = os.urandom(1 << 20)
        for _ in range(96):
            out.write(chunk)
    tracemalloc.start()
    try:
        lake.upload("repo", "main", "big.bin", big)
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        lake.download("repo", "main", "big.bin", tmp_path / "back.bin")
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert upload_peak < 8 << 20
    assert download_peak < 8 << 20
    assert (tmp_path / "back.bin").stat().st_size == 96 << 20
