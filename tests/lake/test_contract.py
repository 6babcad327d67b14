"""The lake contract: lakeFS semantics every backend must have (run once per backend)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from tests.lake.conftest import BACKENDS
from versioning.lake import (
    AlreadyExistsError,
    ChangeType,
    CommonPrefix,
    ConflictError,
    DirtyBranchError,
    InvalidInputError,
    Lake,
    MergeRequest,
    MergeVetoedError,
    NotFoundError,
    NothingToCommitError,
    ObjectStat,
    PreconditionFailedError,
    ProtectedBranchError,
)


def _paths(lake: Lake, repo: str, ref: str, prefix: str = "") -> list[str]:
    return [o.path for o in lake.list_objects(repo, ref, prefix) if isinstance(o, ObjectStat)]


def _commit_files(lake: Lake, repo: str, branch: str, files: dict[str, bytes], msg: str) -> str:
    for path, data in files.items():
        lake.upload(repo, branch, path, data)
    return lake.commit(repo, branch, msg).id


# ---- repositories -------------------------------------------------------------------------


def test_repository_is_created_with_an_initial_commit_on_its_default_branch(lake: Lake) -> None:
    created = lake.create_repository("calls-repo", default_branch="trunk")
    assert created.default_branch == "trunk"
    assert [r.id for r in lake.list_repositories()] == ["calls-repo"]
    assert [b.id for b in lake.list_branches("calls-repo")] == ["trunk"]
    assert len(lake.log("calls-repo", "trunk")) == 1


def test_repository_errors(lake: Lake, repo: str) -> None:
    with pytest.raises(AlreadyExistsError):
        lake.create_repository(repo)
    with pytest.raises(InvalidInputError):
        lake.create_repository("Bad_Name")
    with pytest.raises(NotFoundError):
        lake.get_repository("no-such-repo")


def test_repository_delete(lake: Lake, repo: str) -> None:
    lake.delete_repository(repo)
    assert lake.list_repositories() == []
    with pytest.raises(NotFoundError):
        lake.list_branches(repo)


# ---- branches -----------------------------------------------------------------------------


def test_branches_from_branch_tag_and_commit(lake: Lake, repo: str) -> None:
    first = _commit_files(lake, repo, "main", {"a.txt": b"1"}, "one")
    _commit_files(lake, repo, "main", {"a.txt": b"2"}, "two")
    lake.create_tag(repo, "v1", first)
    lake.create_branch(repo, "from-branch", "main")
    lake.create_branch(repo, "from-tag", "v1")
    lake.create_branch(repo, "from-commit", first[:10])
    assert lake.read_bytes(repo, "from-branch", "a.txt") == b"2"
    assert lake.read_bytes(repo, "from-tag", "a.txt") == b"1"
    assert lake.read_bytes(repo, "from-commit", "a.txt") == b"1"
    names = [b.id for b in lake.list_branches(repo)]
    assert names == sorted(["main", "from-branch", "from-tag", "from-commit"])
    lake.delete_branch(repo, "from-tag")
    assert "from-tag" not in [b.id for b in lake.list_branches(repo)]


def test_branch_errors_change_nothing(lake: Lake, repo: str) -> None:
    before = lake.list_branches(repo)
    with pytest.raises(AlreadyExistsError):
        lake.create_branch(repo, "main", "main")
    with pytest.raises(NotFoundError):
        lake.create_branch(repo, "dev", "no-such-ref")
    for bad in ["", "-dash", "has space", "a/b", "dot.s", "x" * 300]:
        with pytest.raises(InvalidInputError):
            lake.create_branch(repo, bad, "main")
    with pytest.raises(NotFoundError):
        lake.delete_branch(repo, "ghost")
    with pytest.raises(InvalidInputError):
        lake.delete_branch(repo, "main")
    assert lake.list_branches(repo) == before


def test_branch_from_a_branch_does_not_carry_uncommitted_changes(lake: Lake, repo: str) -> None:
    lake.upload(repo, "main", "draft.txt", b"wip")
    lake.create_branch(repo, "dev", "main")
    assert not lake.exists(repo, "dev", "draft.txt")
    assert lake.exists(repo, "main", "draft.txt")


# ---- objects and staging ------------------------------------------------------------------


def test_upload_read_stat_from_bytes_stream_and_file(lake: Lake, repo: str, tmp_path: Path) -> None:
    src = tmp_path / "call.wav"
    src.write_bytes(b"RIFF" + os.urandom(5000))
    lake.upload(repo, "main", "raw/a.bin", b"bytes")
    lake.upload(repo, "main", "raw/b.bin", io.BytesIO(b"stream"))
    stat = lake.upload(repo, "main", "raw/call.wav", src, metadata={"speaker": "s1"})
    assert stat.size_bytes == 5004
    assert lake.read_bytes(repo, "main", "raw/a.bin") == b"bytes"
    assert lake.read_bytes(repo, "main", "raw/b.bin") == b"stream"
    assert lake.read_bytes(repo, "main", "raw/call.wav") == src.read_bytes()
    got = lake.stat(repo, "main", "raw/call.wav")
    assert got.size_bytes == 5004 and got.metadata == {"speaker": "s1"}
    assert got.checksum == lake.stat(repo, "main", "raw/call.wav").checksum


def test_large_object_streams_both_ways(lake: Lake, repo: str, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    block = os.urandom(1 << 20)
    with open(src, "wb") as out:
        for _ in range(5):
            out.write(block)
        out.write(b"tail")
    lake.upload(repo, "main", "big/big.bin", src)
    lake.commit(repo, "main", "big")
    dest = lake.download(repo, "main", "big/big.bin", tmp_path / "out" / "big.bin")
    assert dest.stat().st_size == src.stat().st_size
    assert dest.read_bytes() == src.read_bytes()


def test_uncommitted_changes_are_visible_only_on_their_branch(lake: Lake, repo: str) -> None:
    base = _commit_files(lake, repo, "main", {"keep.txt": b"k", "gone.txt": b"g"}, "base")
    lake.create_branch(repo, "dev", "main")
    lake.upload(repo, "dev", "new.txt", b"n")
    lake.upload(repo, "dev", "keep.txt", b"k2")
    lake.delete_object(repo, "dev", "gone.txt")
    assert _paths(lake, repo, "dev") == ["keep.txt", "new.txt"]
    assert lake.read_bytes(repo, "dev", "keep.txt") == b"k2"
    assert _paths(lake, repo, "main") == ["gone.txt", "keep.txt"]
    assert _paths(lake, repo, base) == ["gone.txt", "keep.txt"]
    changes = {d.path: d.type for d in lake.uncommitted(repo, "dev")}
    assert changes == {
        "new.txt": ChangeType.ADDED,
        "keep.txt": ChangeType.CHANGED,
        "gone.txt": ChangeType.REMOVED,
    }
    with pytest.raises(NotFoundError):
        lake.stat(repo, "dev", "gone.txt")


def test_reset_all_one_path_or_a_prefix(lake: Lake, repo: str) -> None:
    for path in ["a/1", "a/2", "b/1", "c"]:
        lake.upload(repo, "main", path, path.encode())
    lake.reset(repo, "main", "c")
    assert _paths(lake, repo, "main") == ["a/1", "a/2", "b/1"]
    lake.reset(repo, "main", "a/")
    assert _paths(lake, repo, "main") == ["b/1"]
    lake.reset(repo, "main")
    assert lake.uncommitted(repo, "main") == []


def test_delete_uncommitted_object_just_unstages_it(lake: Lake, repo: str) -> None:
    lake.upload(repo, "main", "tmp.txt", b"t")
    lake.delete_object(repo, "main", "tmp.txt")
    assert lake.uncommitted(repo, "main") == []
    with pytest.raises(NotFoundError):
        lake.delete_object(repo, "main", "tmp.txt")


def test_listing_with_prefix_and_delimiter(lake: Lake, repo: str) -> None:
    paths = ["raw/calls/dt=1/p0", "raw/calls/dt=2/p0", "raw/crm/x", "raw/top", "zz"]
    _commit_files(lake, repo, "main", {p: b"x" for p in paths}, "layout")
    lake.upload(repo, "main", "raw/audio/a.wav", b"w")
    listing = list(lake.list_objects(repo, "main", "raw/", delimiter="/"))
    assert [type(x).__name__ for x in listing] == [
        "CommonPrefix",
        "CommonPrefix",
        "CommonPrefix",
        "ObjectStat",
    ]
    assert [x.path for x in listing] == ["raw/audio/", "raw/calls/", "raw/crm/", "raw/top"]
    assert _paths(lake, repo, "main", "raw/calls/") == ["raw/calls/dt=1/p0", "raw/calls/dt=2/p0"]
    top = list(lake.list_objects(repo, "main", "", delimiter="/"))
    assert top == [CommonPrefix("raw/"), lake.stat(repo, "main", "zz")]


# ---- commits, log, refs -------------------------------------------------------------------


def test_commit_records_message_metadata_parents_and_committer(lake: Lake, repo: str) -> None:
    head = lake.get_branch(repo, "main").commit_id
    lake.upload(repo, "main", "a.txt", b"a")
    commit = lake.commit(repo, "main", "add a", {"run_id": "r1", "source": "crm"})
    assert commit.parents == (head,)
    assert commit.message == "add a"
    assert commit.metadata == {"run_id": "r1", "source": "crm"}
    assert commit.committer
    assert commit.creation_date > 0
    assert lake.get_branch(repo, "main").commit_id == commit.id
    assert lake.get_commit(repo, commit.id[:12]) == commit
    assert lake.uncommitted(repo, "main") == []


def test_commit_without_changes_is_refused(lake: Lake, repo: str) -> None:
    with pytest.raises(NothingToCommitError):
        lake.commit(repo, "main", "empty")
    commit = lake.commit(repo, "main", "marker", allow_empty=True)
    assert lake.get_branch(repo, "main").commit_id == commit.id


def test_log_is_newest_first_and_respects_amount(lake: Lake, repo: str) -> None:
    for i in range(4):
        _commit_files(lake, repo, "main", {"f": str(i).encode()}, f"c{i}")
    log = lake.log(repo, "main")
    assert [c.message for c in log] == ["c3", "c2", "c1", "c0", "Repository created"]
    assert [c.message for c in lake.log(repo, "main", amount=2)] == ["c3", "c2"]
    assert lake.get_commit(repo, "main~2").message == "c1"


def test_read_any_object_at_any_ref(lake: Lake, repo: str) -> None:
    ids = [
        _commit_files(lake, repo, "main", {"f.txt": f"v{i}".encode()}, f"v{i}") for i in range(3)
    ]
    for i, cid in enumerate(ids):
        assert lake.read_bytes(repo, cid, "f.txt") == f"v{i}".encode()
    assert lake.read_bytes(repo, "main~1", "f.txt") == b"v1"


# ---- diff ---------------------------------------------------------------------------------


def test_diff_reports_added_removed_changed_with_sizes(lake: Lake, repo: str) -> None:
    left = _commit_files(lake, repo, "main", {"same": b"s", "chg": b"1", "del": b"dd"}, "l")
    lake.upload(repo, "main", "chg", b"222")
    lake.upload(repo, "main", "add", b"aaaa")
    lake.delete_object(repo, "main", "del")
    right = lake.commit(repo, "main", "r").id
    diff = {d.path: (d.type, d.left_size, d.right_size) for d in lake.diff(repo, left, right)}
    assert diff == {
        "add": (ChangeType.ADDED, None, 4),
        "chg": (ChangeType.CHANGED, 1, 3),
        "del": (ChangeType.REMOVED, 2, None),
    }
    assert [d.path for d in lake.diff(repo, left, right, prefix="ch")] == ["chg"]
    assert lake.diff(repo, right, right) == []


# ---- merge --------------------------------------------------------------------------------


def test_merge_when_destination_did_not_move(lake: Lake, repo: str) -> None:
    """The local lake fast-forwards; lakeFS writes a merge commit (lakeFS#3316): both are fine."""
    before = lake.get_branch(repo, "main").commit_id
    lake.create_branch(repo, "ingest-1", "main")
    head = _commit_files(lake, repo, "ingest-1", {"raw/x": b"x"}, "ingest")
    result = lake.merge(repo, "ingest-1", "main")
    main = lake.get_commit(repo, "main")
    if result.fast_forward:
        assert main.id == head
    else:
        assert main.parents == (before, head)
    assert result.commit_id == main.id
    assert lake.diff(repo, "main", "ingest-1") == []


def test_merge_creates_a_merge_commit_with_both_parents(lake: Lake, repo: str) -> None:
    _commit_files(lake, repo, "main", {"shared": b"0"}, "base")
    lake.create_branch(repo, "dev", "main")
    dev = _commit_files(lake, repo, "dev", {"dev.txt": b"d"}, "dev work")
    main = _commit_files(lake, repo, "main", {"main.txt": b"m"}, "main work")
    result = lake.merge(repo, "dev", "main", metadata={"why": "test"})
    assert not result.fast_forward
    merge_commit = lake.get_commit(repo, "main")
    assert merge_commit.parents == (main, dev)
    assert _paths(lake, repo, "main") == ["dev.txt", "main.txt", "shared"]
    again = lake.merge(repo, "dev", "main")
    assert again.changes == 0 and again.commit_id == result.commit_id


def test_merge_conflict_lists_paths_and_changes_nothing(lake: Lake, repo: str) -> None:
    _commit_files(lake, repo, "main", {"a": b"0", "b": b"0", "c": b"0"}, "base")
    lake.create_branch(repo, "dev", "main")
    _commit_files(lake, repo, "dev", {"a": b"dev", "b": b"same", "c": b"dev"}, "dev")
    main_head = _commit_files(lake, repo, "main", {"a": b"main", "b": b"same"}, "main")
    lake.delete_object(repo, "main", "c")
    main_head = lake.commit(repo, "main", "delete c").id
    with pytest.raises(ConflictError) as err:
        lake.merge(repo, "dev", "main")
    assert sorted(err.value.paths) == ["a", "c"]
    assert lake.get_branch(repo, "main").commit_id == main_head
    assert lake.read_bytes(repo, "main", "a") == b"main"
    lake.merge(repo, "dev", "main", strategy="source-wins")
    assert lake.read_bytes(repo, "main", "a") == b"dev"
    assert lake.read_bytes(repo, "main", "c") == b"dev"


def test_merge_dest_wins_keeps_destination(lake: Lake, repo: str) -> None:
    _commit_files(lake, repo, "main", {"a": b"0"}, "base")
    lake.create_branch(repo, "dev", "main")
    _commit_files(lake, repo, "dev", {"a": b"dev", "new": b"n"}, "dev")
    _commit_files(lake, repo, "main", {"a": b"main"}, "main")
    lake.merge(repo, "dev", "main", strategy="dest-wins")
    assert lake.read_bytes(repo, "main", "a") == b"main"
    assert lake.read_bytes(repo, "main", "new") == b"n"


def test_merge_into_a_dirty_branch_is_refused(lake: Lake, repo: str) -> None:
    lake.create_branch(repo, "dev", "main")
    _commit_files(lake, repo, "dev", {"x": b"x"}, "dev")
    lake.upload(repo, "main", "wip", b"w")
    head = lake.get_branch(repo, "main").commit_id
    with pytest.raises(DirtyBranchError):
        lake.merge(repo, "dev", "main")
    assert lake.get_branch(repo, "main").commit_id == head


# ---- tags and revert ----------------------------------------------------------------------


def test_tags_are_immutable_pointers(lake: Lake, repo: str) -> None:
    first = _commit_files(lake, repo, "main", {"f": b"1"}, "one")
    lake.create_tag(repo, "release-1", "main")
    _commit_files(lake, repo, "main", {"f": b"2"}, "two")
    with pytest.raises(AlreadyExistsError):
        lake.create_tag(repo, "release-1", "main")
    assert lake.resolve_ref(repo, "release-1") == first
    assert lake.read_bytes(repo, "release-1", "f") == b"1"
    assert [t.id for t in lake.list_tags(repo)] == ["release-1"]
    with pytest.raises(InvalidInputError):
        lake.create_tag(repo, "bad tag", "main")
    lake.delete_tag(repo, "release-1")
    assert lake.list_tags(repo) == []


def test_revert_undoes_one_commit_and_keeps_later_ones(lake: Lake, repo: str) -> None:
    _commit_files(lake, repo, "main", {"a": b"1"}, "one")
    bad = _commit_files(lake, repo, "main", {"a": b"bad", "junk": b"j"}, "bad")
    _commit_files(lake, repo, "main", {"later": b"l"}, "later")
    reverted = lake.revert(repo, "main", bad)
    assert reverted.parents[0] != bad
    assert lake.read_bytes(repo, "main", "a") == b"1"
    assert not lake.exists(repo, "main", "junk")
    assert lake.read_bytes(repo, "main", "later") == b"l"


# ---- transact -----------------------------------------------------------------------------


def test_transact_commits_and_merges_then_deletes_its_branch(lake: Lake, repo: str) -> None:
    with lake.transact(repo, "main", "atomic load", {"run": "7"}) as tx:
        tx.upload("t/1", b"1")
        tx.upload("t/2", b"2")
        assert not lake.exists(repo, "main", "t/1")
    assert _paths(lake, repo, "main") == ["t/1", "t/2"]
    assert [b.id for b in lake.list_branches(repo)] == ["main"]


def test_transact_rolls_back_on_error(lake: Lake, repo: str) -> None:
    head = lake.get_branch(repo, "main").commit_id
    with pytest.raises(RuntimeError), lake.transact(repo, "main", "will fail") as tx:
        tx.upload("t/1", b"1")
        raise RuntimeError("boom")
    assert lake.get_branch(repo, "main").commit_id == head
    assert [b.id for b in lake.list_branches(repo)] == ["main"]


# ---- bad input ----------------------------------------------------------------------------

BAD_PATHS = [
    "../etc/passwd",
    "a/../b",
    "/abs",
    "a//b",
    "a/",
    "",
    "nul\x00byte",
    "x" * 1100,
    "a/" + "y" * 300,
    "./a",
]


@pytest.mark.parametrize("bad", BAD_PATHS)
def test_bad_object_paths_are_refused_and_change_nothing(lake: Lake, repo: str, bad: str) -> None:
    with pytest.raises(InvalidInputError):
        lake.upload(repo, "main", bad, b"x")
    assert lake.uncommitted(repo, "main") == []


def test_unknown_refs_and_missing_sources_are_clear_errors(
    lake: Lake, repo: str, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError, match="no-such"):
        lake.read_bytes(repo, "no-such", "a")
    with pytest.raises(NotFoundError):
        lake.log(repo, "deadbeef00")
    with pytest.raises(NotFoundError):
        lake.upload(repo, "ghost-branch", "a", b"x")
    with pytest.raises(InvalidInputError, match=r"missing\.bin"):
        lake.upload(repo, "main", "a", tmp_path / "missing.bin")
    with pytest.raises(NotFoundError):
        lake.read_bytes(repo, "main", "never-written")
    assert lake.uncommitted(repo, "main") == []


def test_metadata_must_be_strings(lake: Lake, repo: str) -> None:
    lake.upload(repo, "main", "a", b"a")
    with pytest.raises(InvalidInputError, match="count"):
        lake.commit(repo, "main", "m", {"count": 3})  # type: ignore[dict-item]
    assert len(lake.uncommitted(repo, "main")) == 1


# ---- ancestry -----------------------------------------------------------------------------


def test_merge_base_and_is_ancestor(lake: Lake, repo: str) -> None:
    root = _commit_files(lake, repo, "main", {"a": b"0"}, "base")
    lake.create_branch(repo, "dev", "main")
    dev = _commit_files(lake, repo, "dev", {"d": b"1"}, "dev")
    main = _commit_files(lake, repo, "main", {"m": b"1"}, "main")
    assert lake.merge_base(repo, "dev", "main") == root
    assert lake.merge_base(repo, dev, main) == lake.merge_base(repo, main, dev) == root
    assert lake.is_ancestor(repo, root, "dev") and lake.is_ancestor(repo, root, main)
    assert lake.is_ancestor(repo, dev, dev)
    assert not lake.is_ancestor(repo, dev, "main") and not lake.is_ancestor(repo, main, dev)
    merged = lake.merge(repo, "dev", "main").commit_id
    assert lake.merge_base(repo, dev, merged) == dev and lake.is_ancestor(repo, dev, "main")


# ---- branch protection --------------------------------------------------------------------


def _main_state(lake: Lake, repo: str) -> tuple[str, list[str], list]:
    """What must not change when a change to main is refused."""
    return (
        lake.get_branch(repo, "main").commit_id,
        _paths(lake, repo, "main"),
        lake.uncommitted(repo, "main"),
    )


def test_protection_rules_are_added_listed_and_deleted(lake: Lake, repo: str) -> None:
    assert lake.list_branch_protection(repo) == []
    lake.add_branch_protection(repo, "release-*")
    lake.add_branch_protection(repo, "main")
    assert lake.list_branch_protection(repo) == ["main", "release-*"]
    with pytest.raises(AlreadyExistsError):
        lake.add_branch_protection(repo, "main")
    for bad in ["", "a/b", "has space", "-x", "x" * 300]:
        with pytest.raises(InvalidInputError):
            lake.add_branch_protection(repo, bad)
    lake.delete_branch_protection(repo, "release-*")
    with pytest.raises(NotFoundError):
        lake.delete_branch_protection(repo, "release-*")
    assert lake.list_branch_protection(repo) == ["main"]
    with pytest.raises(NotFoundError):
        lake.list_branch_protection("no-such-repo")


def test_protection_patterns_are_globs(lake: Lake, repo: str) -> None:
    lake.add_branch_protection(repo, "release-*")
    lake.add_branch_protection(repo, "hotfix-?")
    assert lake.is_protected(repo, "release-2026") and lake.is_protected(repo, "release-")
    assert lake.is_protected(repo, "hotfix-1")
    assert not lake.is_protected(repo, "hotfix-12") and not lake.is_protected(repo, "main")
    lake.create_branch(repo, "hotfix-12", "main")
    lake.upload(repo, "hotfix-12", "f", b"unprotected")  # a near miss stays writable
    lake.create_branch(repo, "release-1", "main")
    with pytest.raises(ProtectedBranchError):
        lake.upload(repo, "release-1", "f", b"x")


def test_direct_changes_to_a_protected_branch_are_refused(lake: Lake, repo: str) -> None:
    _commit_files(lake, repo, "main", {"keep": b"k", "gone?": b"g"}, "base")
    lake.upload(repo, "main", "staged", b"s")  # staged before the rule: a reset must not drop it
    lake.add_branch_protection(repo, "main")
    before = _main_state(lake, repo)
    with pytest.raises(ProtectedBranchError):
        lake.upload(repo, "main", "new", b"n")
    with pytest.raises(ProtectedBranchError):
        lake.delete_object(repo, "main", "gone?")
    with pytest.raises(ProtectedBranchError):
        lake.commit(repo, "main", "direct commit")
    with pytest.raises(ProtectedBranchError):
        lake.reset(repo, "main")
    with pytest.raises(ProtectedBranchError):
        lake.reset(repo, "main", "staged")
    assert _main_state(lake, repo) == before


def test_merge_into_a_protected_branch_needs_a_check(lake: Lake, repo: str) -> None:
    """No merge check configured: the merge is refused (a client never opens main by default)."""
    lake.create_branch(repo, "dev", "main")
    _commit_files(lake, repo, "dev", {"d": b"1"}, "dev")
    lake.add_branch_protection(repo, "main")
    lake.merge_checks = ()
    before = _main_state(lake, repo)
    with pytest.raises(MergeVetoedError):
        lake.merge(repo, "dev", "main")
    assert _main_state(lake, repo) == before
    lake.merge(repo, "main", "dev")  # unprotected destinations need no check


def test_merge_into_a_protected_branch_passes_its_check(lake: Lake, repo: str) -> None:
    _commit_files(lake, repo, "main", {"a": b"0"}, "base")
    lake.create_branch(repo, "dev", "main")
    dev = _commit_files(lake, repo, "dev", {"d": b"1"}, "dev")
    head = lake.get_branch(repo, "main").commit_id
    lake.add_branch_protection(repo, "main")
    seen: list[MergeRequest] = []
    lake.merge_checks = (seen.append,)
    lake.merge(repo, "dev", "main", message="publish dev", metadata={"k": "v"})
    (request,) = seen
    assert (request.repository, request.source_ref, request.source_commit) == (repo, "dev", dev)
    assert (request.destination_branch, request.destination_head) == ("main", head)
    assert request.merge_base == head and request.result_is_source
    assert request.message == "publish dev" and request.metadata["k"] == "v"
    assert lake.read_bytes(repo, "main", "d") == b"1"
    again = lake.merge(repo, "dev", "main")  # already merged: nothing to check or change
    assert again.changes == 0 and len(seen) == 1


def test_a_vetoing_check_refuses_the_merge_and_changes_nothing(lake: Lake, repo: str) -> None:
    lake.create_branch(repo, "dev", "main")
    _commit_files(lake, repo, "dev", {"d": b"1"}, "dev")
    lake.add_branch_protection(repo, "main")

    def veto(request: MergeRequest) -> None:
        raise MergeVetoedError(f"{request.source_commit[:12]} has no audit")

    lake.merge_checks = (lambda request: None, veto)
    before = _main_state(lake, repo)
    with pytest.raises(MergeVetoedError, match="has no audit"):
        lake.merge(repo, "dev", "main")
    assert _main_state(lake, repo) == before


def test_merge_refuses_a_destination_that_moved(lake: Lake, repo: str) -> None:
    lake.create_branch(repo, "dev", "main")
    _commit_files(lake, repo, "dev", {"d": b"1"}, "dev")
    seen = lake.get_branch(repo, "main").commit_id
    moved = _commit_files(lake, repo, "main", {"m": b"1"}, "main moved on")
    with pytest.raises(PreconditionFailedError):
        lake.merge(repo, "dev", "main", expected_destination_head=seen)
    assert lake.get_branch(repo, "main").commit_id == moved
    lake.add_branch_protection(repo, "main")
    lake.merge_checks = (lambda request: None,)
    with pytest.raises(PreconditionFailedError):
        lake.merge(repo, "dev", "main", expected_destination_head=seen)
    lake.merge(repo, "dev", "main", expected_destination_head=moved)
    assert lake.exists(repo, "main", "d")


# Where the backends differ on purpose: the local lake lets a protected branch move only by
# merges, while lakeFS documents that a revert is allowed on a protected branch and does not
# protect a branch from deletion (graveler's DeleteBranch checks no rule; only the default
# branch cannot be deleted).


def _protected_main_with_a_bad_commit(lake: Lake, repo: str) -> str:
    _commit_files(lake, repo, "main", {"a": b"1"}, "good")
    bad = _commit_files(lake, repo, "main", {"a": b"bad"}, "bad")
    lake.add_branch_protection(repo, "main")
    return bad


def test_revert_on_a_protected_branch_is_refused_by_the_local_lake(tmp_path: Path) -> None:
    """Local: only merges that pass the checks move a protected branch, reverts included."""
    with BACKENDS["local"](tmp_path) as lake:
        lake.create_repository("contract-repo")
        bad = _protected_main_with_a_bad_commit(lake, "contract-repo")
        with pytest.raises(ProtectedBranchError):
            lake.revert("contract-repo", "main", bad)
        assert lake.get_branch("contract-repo", "main").commit_id == bad


def test_revert_on_a_protected_branch_is_allowed_by_lakefs(tmp_path: Path) -> None:
    """lakeFS docs (Branch Protection Rules): a revert is allowed on a protected branch."""
    with BACKENDS["lakefs-fake-server"](tmp_path) as lake:
        lake.create_repository("contract-repo")
        bad = _protected_main_with_a_bad_commit(lake, "contract-repo")
        reverted = lake.revert("contract-repo", "main", bad)
        assert reverted.parents == (bad,)
        assert lake.read_bytes("contract-repo", "main", "a") == b"1"


def test_deleting_a_protected_branch_is_refused_by_the_local_lake(tmp_path: Path) -> None:
    with BACKENDS["local"](tmp_path) as lake:
        lake.create_repository("contract-repo")
        lake.create_branch("contract-repo", "release-1", "main")
        lake.add_branch_protection("contract-repo", "release-*")
        with pytest.raises(ProtectedBranchError):
            lake.delete_branch("contract-repo", "release-1")


def test_deleting_a_protected_branch_is_allowed_by_lakefs(tmp_path: Path) -> None:
    """lakeFS protection blocks staging writes and commits only, not branch deletion."""
    with BACKENDS["lakefs-fake-server"](tmp_path) as lake:
        lake.create_repository("contract-repo")
        lake.create_branch("contract-repo", "release-1", "main")
        lake.add_branch_protection("contract-repo", "release-*")
        lake.delete_branch("contract-repo", "release-1")
        assert [b.id for b in lake.list_branches("contract-repo")] == ["main"]
