"""``voiceops lake``: every verb through Typer's CliRunner, effects checked with the Lake API."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from core.settings import Settings, get_settings
from versioning.lake import Lake, open_lake
from versioning.lake.local import LocalLake
from voiceops.cli import app

REPO = "calls-repo"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("VOICEOPS_HOME", str(home))
    monkeypatch.setenv("VOICEOPS_LAKE_FSYNC", "false")
    monkeypatch.delenv("VOICEOPS_LAKE_BACKEND", raising=False)
    get_settings.cache_clear()
    return home


@pytest.fixture
def lake(home: Path) -> Lake:
    """The lake the CLI opens, with one repository whose main has a committed object."""
    lake = open_lake(Settings())
    assert isinstance(lake, LocalLake)
    lake.create_repository(REPO)
    lake.upload(REPO, "main", "raw/a.txt", b"alpha\n")
    lake.commit(REPO, "main", "seed")
    return lake


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=input)


def ok(*args: str) -> Result:
    result = run(*args)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result


def json_of(*args: str) -> object:
    """Run with --json; stdout must be exactly one JSON document."""
    return json.loads(ok(*args, "--json").stdout)


def assert_error(result: Result, *fragments: str) -> str:
    """Exit code 1, one ``error:`` line on stderr, no traceback, nothing on stdout."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def snapshot(lake: Lake) -> tuple:
    """Everything a failed command must leave unchanged."""
    repos = sorted(r.id for r in lake.list_repositories())
    state = []
    for repo in repos:
        branches = sorted((b.id, b.commit_id) for b in lake.list_branches(repo))
        staged = {b: lake.uncommitted(repo, b) for b, _ in branches}
        tags = sorted((t.id, t.commit_id) for t in lake.list_tags(repo))
        state.append((repo, branches, staged, tags))
    return repos, state


def make_tree(root: Path, count: int = 7) -> dict[str, bytes]:
    files = {
        f"calls/dt=2024-05-0{i % 3 + 1}/part-{i}.jsonl": f'{{"n": {i}}}\n'.encode()
        for i in range(count)
    }
    files["audio/test-tone.wav"] = b"RIFF" + bytes(100)
    for relative, data in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    return files


# ---- repositories -----------------------------------------------------------------------
def test_repo_create_list_delete(home: Path) -> None:
    out = ok("lake", "repo", "create", "lakefs://new-repo", "--default-branch", "trunk").stdout
    assert "new-repo" in out
    lake = open_lake(Settings())
    assert lake.get_repository("new-repo").default_branch == "trunk"
    assert lake.list_branches("new-repo")[0].id == "trunk"

    listed = json_of("lake", "repo", "list")
    assert [(r["id"], r["default_branch"]) for r in listed] == [("new-repo", "trunk")]
    assert "new-repo" in ok("lake", "repo", "list").stdout

    refused = run("lake", "repo", "delete", "lakefs://new-repo", input="n\n")
    assert refused.exit_code == 1
    assert [r.id for r in lake.list_repositories()] == ["new-repo"]
    ok("lake", "repo", "delete", "lakefs://new-repo", "--yes")
    assert open_lake(Settings()).list_repositories() == []


def test_repo_create_json_and_duplicate(lake: Lake) -> None:
    created = json_of("lake", "repo", "create", "lakefs://other-repo")
    assert created["id"] == "other-repo" and created["default_branch"] == "main"
    before = snapshot(lake)
    assert_error(run("lake", "repo", "create", f"lakefs://{REPO}"), REPO)
    assert snapshot(lake) == before


# ---- branches ---------------------------------------------------------------------------
def test_branch_create_list_delete(lake: Lake) -> None:
    main_head = lake.resolve_ref(REPO, "main")
    out = ok(
        "lake", "branch", "create", f"lakefs://{REPO}/dev", "--source", f"lakefs://{REPO}/main"
    )
    assert "dev" in out.stdout
    assert lake.get_branch(REPO, "dev").commit_id == main_head

    branches = json_of("lake", "branch", "list", f"lakefs://{REPO}")
    assert {b["id"]: b["commit_id"] for b in branches} == {"dev": main_head, "main": main_head}
    table = ok("lake", "branch", "list", f"lakefs://{REPO}").stdout
    assert "dev" in table and "main" in table and "(default)" in table

    ok("lake", "branch", "delete", f"lakefs://{REPO}/dev")
    assert [b.id for b in lake.list_branches(REPO)] == ["main"]


def test_branch_reset_path_and_all(lake: Lake) -> None:
    lake.upload(REPO, "main", "raw/b.txt", b"b")
    lake.upload(REPO, "main", "tmp/c.txt", b"c")
    ok("lake", "branch", "reset", f"lakefs://{REPO}/main/tmp/")
    assert [e.path for e in lake.uncommitted(REPO, "main")] == ["raw/b.txt"]
    ok("lake", "branch", "reset", f"lakefs://{REPO}/main")
    assert lake.uncommitted(REPO, "main") == []


def test_branch_revert(lake: Lake) -> None:
    lake.upload(REPO, "main", "raw/a.txt", b"bad data\n")
    bad = lake.commit(REPO, "main", "bad change")
    reverted = json_of("lake", "branch", "revert", f"lakefs://{REPO}/main", bad.id[:12])
    assert reverted[0]["parents"] == [bad.id]
    assert lake.read_bytes(REPO, "main", "raw/a.txt") == b"alpha\n"
    assert lake.resolve_ref(REPO, "main") == reverted[0]["id"]


# ---- objects ----------------------------------------------------------------------------
def test_upload_cat_stat_download_single(lake: Lake, tmp_path: Path) -> None:
    source = tmp_path / "call.jsonl"
    source.write_bytes(b'{"intent": "balance"}\n')
    stat = json_of(
        "lake", "fs", "upload", f"lakefs://{REPO}/main/raw/call.jsonl", "--source", str(source)
    )
    assert stat["path"] == "raw/call.jsonl" and stat["size_bytes"] == source.stat().st_size
    assert lake.read_bytes(REPO, "main", "raw/call.jsonl") == source.read_bytes()

    # a trailing '/' keeps the file name
    ok("lake", "fs", "upload", f"lakefs://{REPO}/main/dir/", "--source", str(source))
    assert lake.exists(REPO, "main", "dir/call.jsonl")

    assert ok("lake", "fs", "cat", f"lakefs://{REPO}/main/raw/call.jsonl").stdout_bytes == (
        source.read_bytes()
    )
    shown = json_of("lake", "fs", "stat", f"lakefs://{REPO}/main/raw/call.jsonl")
    assert shown["checksum"] == stat["checksum"]
    assert (
        "raw/call.jsonl" in ok("lake", "fs", "stat", f"lakefs://{REPO}/main/raw/call.jsonl").stdout
    )

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    ok("lake", "fs", "download", f"lakefs://{REPO}/main/raw/a.txt", str(out_dir))
    assert (out_dir / "a.txt").read_bytes() == b"alpha\n"
    ok("lake", "fs", "download", f"lakefs://{REPO}/main/raw/a.txt", str(out_dir / "renamed.txt"))
    assert (out_dir / "renamed.txt").read_bytes() == b"alpha\n"


def test_recursive_upload_tree_ls_download(lake: Lake, tmp_path: Path) -> None:
    files = make_tree(tmp_path / "export")
    summary = json_of(
        "lake",
        "fs",
        "upload",
        f"lakefs://{REPO}/main/data",
        "--source",
        str(tmp_path / "export"),
        "--recursive",
    )
    assert summary["objects"] == len(files)
    assert summary["bytes"] == sum(len(d) for d in files.values())
    for relative, data in files.items():
        assert lake.read_bytes(REPO, "main", f"data/{relative}") == data
    assert {e.path for e in lake.uncommitted(REPO, "main")} == {f"data/{r}" for r in files}

    listing = json_of("lake", "fs", "ls", f"lakefs://{REPO}/main/data/")
    assert {e["path"] for e in listing} == {"data/audio/", "data/calls/"}
    assert all(e["path_type"] == "common_prefix" for e in listing)
    # a prefix without the trailing '/' lists the directory's contents too
    assert json_of("lake", "fs", "ls", f"lakefs://{REPO}/main/data") == listing
    recursive = json_of("lake", "fs", "ls", f"lakefs://{REPO}/main/data", "--recursive")
    assert [e["path"] for e in recursive] == sorted(f"data/{r}" for r in files)
    table = ok("lake", "fs", "ls", f"lakefs://{REPO}/main/data/calls", "-r").stdout
    assert "part-0.jsonl" in table and "objects" in table

    target = tmp_path / "copy"
    ok("lake", "fs", "download", f"lakefs://{REPO}/main/data/", str(target), "--recursive")
    assert {
        p.relative_to(target).as_posix(): p.read_bytes() for p in target.rglob("*") if p.is_file()
    } == files


def test_recursive_upload_is_batched(
    lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = make_tree(tmp_path / "export", count=7)
    calls: list[int] = []
    original = LocalLake.upload_many

    def spy(self: LocalLake, repository: str, branch: str, items):  # type: ignore[no-untyped-def]
        items = list(items)
        calls.append(len(items))
        return original(self, repository, branch, items)

    monkeypatch.setattr(LocalLake, "upload_many", spy)
    monkeypatch.setattr(LocalLake, "upload", lambda *a, **k: pytest.fail("per-file upload"))
    monkeypatch.setattr("voiceops.cli._transfer.UPLOAD_BATCH", 3)
    ok("lake", "fs", "upload", f"lakefs://{REPO}/main/in/", "-s", str(tmp_path / "export"), "-r")
    assert calls == [3, 3, 2]
    assert len(lake.uncommitted(REPO, "main")) == len(files)


def test_fs_rm_and_rm_recursive(lake: Lake) -> None:
    lake.upload(REPO, "main", "tmp/x", b"x")
    lake.upload(REPO, "main", "tmp/y/z", b"z")
    lake.commit(REPO, "main", "tmp files")
    ok("lake", "fs", "rm", f"lakefs://{REPO}/main/raw/a.txt")
    assert not lake.exists(REPO, "main", "raw/a.txt")
    ok("lake", "fs", "rm", f"lakefs://{REPO}/main/tmp", "--recursive")
    assert list(lake.list_objects(REPO, "main")) == []
    assert {e.type.value for e in lake.uncommitted(REPO, "main")} == {"removed"}


# ---- history ----------------------------------------------------------------------------
def test_commit_log_show_json(lake: Lake) -> None:
    lake.upload(REPO, "main", "raw/b.txt", b"b")
    commit = json_of(
        "lake",
        "commit",
        f"lakefs://{REPO}/main",
        "-m",
        "add b",
        "--meta",
        "run_id=r1",
        "--meta",
        "query=a=b",
    )
    assert commit["message"] == "add b"
    assert commit["metadata"] == {"run_id": "r1", "query": "a=b"}
    assert lake.resolve_ref(REPO, "main") == commit["id"]
    assert lake.uncommitted(REPO, "main") == []

    log = json_of("lake", "log", f"lakefs://{REPO}/main")
    assert [c["message"] for c in log][:2] == ["add b", "seed"]
    assert {"id", "parents", "committer", "creation_date", "metadata"} <= set(log[0])
    assert len(json_of("lake", "log", f"lakefs://{REPO}/main", "--amount", "1")) == 1
    table = ok("lake", "log", f"lakefs://{REPO}/main").stdout
    assert commit["id"][:12] in table and "run_id=r1" in table

    shown = json_of("lake", "show", f"lakefs://{REPO}/{commit['id'][:10]}")
    assert shown == commit
    assert commit["id"] in ok("lake", "show", f"lakefs://{REPO}/main").stdout


def test_diff_uncommitted_and_between_refs(lake: Lake) -> None:
    lake.create_branch(REPO, "dev", "main")
    lake.upload(REPO, "dev", "raw/a.txt", b"changed\n")
    lake.upload(REPO, "dev", "raw/new.txt", b"new")
    staged = json_of("lake", "diff", f"lakefs://{REPO}/dev")
    assert {(e["path"], e["type"]) for e in staged} == {
        ("raw/a.txt", "changed"),
        ("raw/new.txt", "added"),
    }
    lake.delete_object(REPO, "dev", "raw/new.txt")
    lake.upload(REPO, "dev", "raw/b.txt", b"bb")
    lake.commit(REPO, "dev", "dev work")
    lake.upload(REPO, "main", "raw/gone.txt", b"g")
    lake.commit(REPO, "main", "main work")

    entries = json_of("lake", "diff", f"lakefs://{REPO}/main", f"lakefs://{REPO}/dev")
    assert {(e["path"], e["type"]) for e in entries} == {
        ("raw/a.txt", "changed"),
        ("raw/b.txt", "added"),
        ("raw/gone.txt", "removed"),
    }
    changed = next(e for e in entries if e["type"] == "changed")
    assert (changed["left_size"], changed["right_size"]) == (6, 8)
    table = ok("lake", "diff", f"lakefs://{REPO}/main", f"lakefs://{REPO}/dev").stdout
    for line in (
        "+ │ raw/b.txt",
        "- │ raw/gone.txt",
        "~ │ raw/a.txt",
        "1 added, 1 removed, 1 changed",
    ):
        assert line in table
    assert (
        "no differences"
        in ok("lake", "diff", f"lakefs://{REPO}/main", f"lakefs://{REPO}/main").stdout
    )


def test_merge_json_conflict_and_strategy(lake: Lake) -> None:
    lake.create_branch(REPO, "dev", "main")
    lake.upload(REPO, "dev", "raw/a.txt", b"from dev\n")
    lake.commit(REPO, "dev", "dev edit")
    lake.upload(REPO, "main", "raw/a.txt", b"from main\n")
    lake.commit(REPO, "main", "main edit")

    before = snapshot(lake)
    line = assert_error(run("lake", "merge", f"lakefs://{REPO}/dev", f"lakefs://{REPO}/main"))
    assert "conflict" in line and "raw/a.txt" in line and "--strategy" in line
    assert snapshot(lake) == before

    result = json_of(
        "lake",
        "merge",
        f"lakefs://{REPO}/dev",
        f"lakefs://{REPO}/main",
        "--strategy",
        "source-wins",
        "-m",
        "take dev",
    )
    assert set(result) == {"commit_id", "fast_forward", "changes"}
    assert lake.resolve_ref(REPO, "main") == result["commit_id"]
    assert lake.read_bytes(REPO, "main", "raw/a.txt") == b"from dev\n"
    assert lake.get_commit(REPO, "main").message == "take dev"


def test_merge_human_output(lake: Lake) -> None:
    lake.create_branch(REPO, "dev", "main")
    lake.upload(REPO, "dev", "raw/z.txt", b"z")
    lake.commit(REPO, "dev", "z")
    out = ok("lake", "merge", f"lakefs://{REPO}/dev", f"lakefs://{REPO}/main").stdout
    assert "Merged dev into main" in out
    assert lake.exists(REPO, "main", "raw/z.txt")


# ---- tags and maintenance -----------------------------------------------------------------
def test_tag_create_list_delete(lake: Lake) -> None:
    head = lake.resolve_ref(REPO, "main")
    ok("lake", "tag", "create", f"lakefs://{REPO}/v1.0", f"lakefs://{REPO}/main")
    assert json_of("lake", "tag", "list", f"lakefs://{REPO}") == [{"id": "v1.0", "commit_id": head}]
    assert "v1.0" in ok("lake", "tag", "list", f"lakefs://{REPO}").stdout
    before = snapshot(lake)
    assert_error(run("lake", "tag", "create", f"lakefs://{REPO}/v1.0", f"lakefs://{REPO}/main"))
    assert snapshot(lake) == before
    ok("lake", "tag", "delete", f"lakefs://{REPO}/v1.0")
    assert lake.list_tags(REPO) == []


def test_gc_and_fsck(lake: Lake) -> None:
    report = json_of("lake", "gc", "run", f"lakefs://{REPO}", "--retention-days", "7")
    assert report["repository"] == REPO and report["deleted_objects"] == 0
    fsck = json_of("lake", "fsck", f"lakefs://{REPO}", "--verify-content")
    assert fsck["ok"] is True and fsck["checked_objects"] >= 1
    assert "OK" in ok("lake", "fsck", f"lakefs://{REPO}").stdout


# ---- errors -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["lake", "log", "calls-repo/main"], "invalid URI"),
        (["lake", "log", "s3://calls-repo/main"], "invalid URI"),
        (["lake", "log", "lakefs://calls-repo/no-such-branch"], "no-such-branch"),
        (["lake", "log", "lakefs://calls-repo"], "branch, tag or commit is required"),
        (["lake", "branch", "list", "lakefs://no-such-repo"], "no-such-repo"),
        (
            ["lake", "branch", "create", "lakefs://calls-repo/x", "-s", "lakefs://calls-repo/nope"],
            "nope",
        ),
        (
            ["lake", "fs", "upload", "lakefs://calls-repo/main/x.txt", "-s", "/no/such/file"],
            "/no/such/file",
        ),
        (
            ["lake", "fs", "upload", "lakefs://calls-repo/main/x/", "-s", "/no/such/dir", "-r"],
            "/no/such/dir",
        ),
        (["lake", "fs", "cat", "lakefs://calls-repo/main/raw/../a.txt"], "'..'"),
        (["lake", "fs", "cat", "lakefs://calls-repo/main/raw/missing.txt"], "missing.txt"),
        (["lake", "fs", "rm", "lakefs://calls-repo/main/raw/../a.txt"], "'..'"),
        (
            ["lake", "commit", "lakefs://calls-repo/main", "-m", "x", "--meta", "novalue"],
            "'novalue'",
        ),
        (["lake", "commit", "lakefs://calls-repo/main", "-m", "x", "--meta", "=v"], "'=v'"),
        (["lake", "commit", "lakefs://calls-repo/main", "-m", "nothing staged"], ""),
        (
            ["lake", "diff", "lakefs://calls-repo/main", "lakefs://other-repo/main"],
            "different repositories",
        ),
        (["lake", "repo", "create", "lakefs://calls-repo/main"], "lakefs://REPO"),
        (["lake", "repo", "create", "lakefs://Bad_Name"], "invalid repository name"),
        (["lake", "tag", "delete", "lakefs://calls-repo/no-tag"], "no-tag"),
    ],
)
def test_errors_are_one_line_and_change_nothing(lake: Lake, args: list[str], fragment: str) -> None:
    before = snapshot(lake)
    assert_error(run(*args), fragment)
    assert snapshot(lake) == before


def test_upload_with_dotdot_path_changes_nothing(lake: Lake, tmp_path: Path) -> None:
    source = tmp_path / "f.txt"
    source.write_text("x")
    before = snapshot(lake)
    assert_error(
        run("lake", "fs", "upload", f"lakefs://{REPO}/main/raw/../f.txt", "-s", str(source)), "'..'"
    )
    assert_error(
        run("lake", "fs", "upload", f"lakefs://{REPO}/nobranch/f.txt", "-s", str(source)),
        "nobranch",
    )
    assert_error(
        run("lake", "fs", "upload", f"lakefs://{REPO}/main/dir/", "-s", str(tmp_path)),
        "--recursive",
    )
    assert_error(
        run("lake", "fs", "upload", f"lakefs://{REPO}/nobranch/", "-s", str(tmp_path), "-r"),
        "nobranch",
    )
    assert snapshot(lake) == before


def test_recursive_upload_with_bad_name_changes_nothing(lake: Lake, tmp_path: Path) -> None:
    """A target path over lakeFS's 1024 bytes is found before the first file is staged."""
    make_tree(tmp_path / "export")
    deep = tmp_path / "export" / "/".join(["d" * 200] * 6)
    deep.mkdir(parents=True)
    (deep / "z.txt").write_text("z")
    before = snapshot(lake)
    assert_error(
        run("lake", "fs", "upload", f"lakefs://{REPO}/main/", "-s", str(tmp_path / "export"), "-r"),
        "longer than 1024 bytes",
    )
    assert snapshot(lake) == before


def test_usage_error_exits_2(lake: Lake) -> None:
    result = run("lake", "commit", f"lakefs://{REPO}/main")  # no -m
    assert result.exit_code == 2


def test_console_script_error_is_one_line(lake: Lake, home: Path) -> None:
    """The real entry point (``main()``), as a separate process: no traceback."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from voiceops.cli import main; main()",
            "lake",
            "log",
            f"lakefs://{REPO}/ghost",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith("error: ") and "ghost" in proc.stderr
