"""Tests of the lakeFS backend itself, against the fake lakeFS server (and a real one if set)."""

from __future__ import annotations

import hashlib
import io
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lakefs
import lakefs_sdk
import pytest

from tests.fakes.fake_lakefs import (
    FAKE_ACCESS_KEY_ID,
    FAKE_SECRET_ACCESS_KEY,
    fake_client,
    fake_lakefs_lake,
    local_lake,
    run_fake_lakefs,
    serve,
)
from versioning.lake import (
    AlreadyExistsError,
    ConflictError,
    DirtyBranchError,
    InvalidInputError,
    LakeError,
    MergeResult,
    MergeVetoedError,
    NotFoundError,
    NothingToCommitError,
    ObjectStat,
    PreconditionFailedError,
    ProtectedBranchError,
    UnsupportedError,
)
from versioning.lake.base import CHUNK_SIZE
from versioning.lake.lakefs_backend import LakeFSLake, translate_error

LAKECTL_VARS = [
    "LAKECTL_SERVER_ENDPOINT_URL",
    "LAKECTL_CREDENTIALS_ACCESS_KEY_ID",
    "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY",
    "LAKECTL_CREDENTIALS_SESSION_TOKEN",
    "LAKECTL_CREDENTIALS_PROVIDER_TYPE",
]


@pytest.fixture
def lakectl_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No LAKECTL_* variables and no lakectl config file, whatever the machine has."""
    for name in LAKECTL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LAKECTL_CONFIG_FILE", str(tmp_path / "absent.lakectl.yaml"))
    return monkeypatch


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[LakeFSLake]:
    with fake_lakefs_lake(tmp_path / "server") as backend:
        backend.create_repository("calls")
        yield backend


class Unseekable(io.RawIOBase):
    """A pipe-like stream of ``size`` pseudo-random bytes that cannot seek or tell its size."""

    def __init__(self, size: int):
        self.remaining = size
        self.digest = hashlib.sha256()
        self._block = os.urandom(64 * 1024)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.remaining, len(self._block))
        buffer[:count] = self._block[:count]
        self.digest.update(self._block[:count])
        self.remaining -= count
        return count


# ---- configuration ------------------------------------------------------------------------


def test_fake_server_configuration_from_lakectl_env_vars(
    lakectl_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with run_fake_lakefs(tmp_path / "server") as endpoint:
        lakectl_env.setenv("LAKECTL_SERVER_ENDPOINT_URL", endpoint)
        lakectl_env.setenv("LAKECTL_CREDENTIALS_ACCESS_KEY_ID", "AKIAENV")
        lakectl_env.setenv("LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY", "secret-from-env")
        lake = LakeFSLake.from_lakectl_config(storage_namespace="local://bucket/lakes/")
        repo = lake.create_repository("from-env")
        lake.upload("from-env", "main", "a.txt", b"a")
        commit = lake.commit("from-env", "main", "env")
    assert lake.endpoint == f"{endpoint}/api/v1"
    assert repo.storage_namespace == "local://bucket/lakes/from-env"
    assert commit.committer == "AKIAENV"  # lakeFS records the authenticated user


def test_fake_server_configuration_from_lakectl_yaml(
    lakectl_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "lakectl.yaml"
    with run_fake_lakefs(tmp_path / "server") as endpoint:
        config.write_text(
            "credentials:\n"
            "  access_key_id: AKIAYAML\n"
            "  secret_access_key: secret-from-yaml\n"
            f"server:\n  endpoint_url: {endpoint}\n"
        )
        lakectl_env.setenv("LAKECTL_CONFIG_FILE", str(config))
        lake = LakeFSLake.from_lakectl_config(storage_namespace="local://bucket")
        assert lake.create_repository("from-yaml").storage_namespace == "local://bucket/from-yaml"


def test_missing_lakectl_configuration_is_a_clear_error(lakectl_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidInputError, match="LAKECTL_SERVER_ENDPOINT_URL"):
        LakeFSLake.from_lakectl_config()


def test_fake_server_repository_needs_a_storage_namespace(tmp_path: Path) -> None:
    with run_fake_lakefs(tmp_path / "server") as endpoint:
        lake = LakeFSLake(fake_client(endpoint))
        with pytest.raises(InvalidInputError, match="storage namespace"):
            lake.create_repository("no-namespace")
        assert lake.list_repositories() == []


def test_fake_server_rejects_requests_without_credentials(tmp_path: Path) -> None:
    with run_fake_lakefs(tmp_path / "server") as endpoint:
        client = lakefs.Client(host=endpoint, username="", password="")
        with pytest.raises(LakeError, match="not authorized"):
            LakeFSLake(client).list_repositories()


def test_unreachable_server_is_a_lake_error() -> None:
    client = lakefs.Client(
        host="http://127.0.0.1:9", username=FAKE_ACCESS_KEY_ID, password=FAKE_SECRET_ACCESS_KEY
    )
    client.sdk_client.repositories_api.api_client.rest_client.pool_manager.connection_pool_kw[
        "retries"
    ] = False
    with pytest.raises(LakeError, match="cannot reach lakeFS"):
        LakeFSLake(client).get_repository("calls")


# ---- error mapping ------------------------------------------------------------------------


def test_fake_server_errors_name_what_was_missing(lake: LakeFSLake) -> None:
    with pytest.raises(NotFoundError, match=re.escape("lakefs://calls/main/nope.wav")):
        lake.stat("calls", "main", "nope.wav")
    with pytest.raises(NotFoundError, match="lakefs://calls/ghost"):
        lake.get_branch("calls", "ghost")
    with pytest.raises(NotFoundError, match="'other-repo'"):
        lake.get_repository("other-repo")
    with pytest.raises(NotFoundError, match="lakefs://calls/main/x"):
        lake.open("calls", "main", "x")
    for error in (NotFoundError, LakeError):
        with pytest.raises(error) as caught:
            lake.read_bytes("calls", "v9", "x")
        assert "\n" not in str(caught.value)


def test_fake_server_error_mapping(lake: LakeFSLake) -> None:
    with pytest.raises(AlreadyExistsError, match="calls"):
        lake.create_repository("calls")
    with pytest.raises(NothingToCommitError):
        lake.commit("calls", "main", "nothing")
    first = lake.upload("calls", "main", "a", b"1")
    assert first.size_bytes == 1
    bad = lake.commit("calls", "main", "one").id
    lake.upload("calls", "main", "wip", b"w")
    with pytest.raises(DirtyBranchError):
        lake.revert("calls", "main", bad)
    with pytest.raises(InvalidInputError, match="main"):
        lake.delete_branch("calls", "main")
    with pytest.raises(InvalidInputError):
        lake.merge("calls", "main", "main", strategy="ours")
    with pytest.raises(InvalidInputError):
        lake.open("calls", "main", "a//b")


def test_fake_server_conflicts_carry_the_conflicting_paths(lake: LakeFSLake) -> None:
    lake.upload("calls", "main", "shared.json", b"{}")
    lake.commit("calls", "main", "base")
    lake.create_branch("calls", "dev", "main")
    for branch in ("dev", "main"):
        lake.upload("calls", branch, "shared.json", branch.encode())
        lake.upload("calls", branch, f"{branch}-only", b"x")
        lake.commit("calls", branch, branch)
    with pytest.raises(ConflictError, match="merge lakefs://calls/dev") as caught:
        lake.merge("calls", "dev", "main")
    assert caught.value.paths == ["shared.json"]


@pytest.mark.parametrize(
    ("status", "message", "error"),
    [
        (404, "not found", NotFoundError),
        (409, "not unique", AlreadyExistsError),
        (409, "conflict found", ConflictError),
        (400, "commit: no changes", NothingToCommitError),
        (400, "revert: uncommitted changes (dirty branch)", DirtyBranchError),
        (400, "validation error", InvalidInputError),
        (403, "cannot delete repository default branch", InvalidInputError),
        (401, "error authenticating request", LakeError),
        (403, "cannot write to protected branch", ProtectedBranchError),
        (403, "cannot commit to protected branch", ProtectedBranchError),
        (412, "Precondition failed", PreconditionFailedError),
        (412, "update branch main: pre-merge hook aborted, run id 'r1': ...", MergeVetoedError),
        (500, "update branch main: pre-merge hook aborted, run id 'r2': X", MergeVetoedError),
        (501, "feature not supported", UnsupportedError),
        (500, "internal\nerror", LakeError),
    ],
)
def test_lakefs_statuses_map_to_lake_errors(status: int, message: str, error: type) -> None:
    translated = translate_error(status, message, "lakefs://calls/main")
    assert type(translated) is error
    assert str(translated).startswith("lakefs://calls/main: ")
    assert "\n" not in str(translated)


def test_gc_and_fsck_point_to_the_lakefs_server() -> None:
    lake = LakeFSLake(fake_client("http://127.0.0.1:9"))
    with pytest.raises(UnsupportedError, match="lakectl gc set-config"):
        lake.gc("calls")
    with pytest.raises(UnsupportedError, match="server"):
        lake.fsck("calls")


# ---- streaming ----------------------------------------------------------------------------


def test_fake_server_upload_streams_an_unseekable_source_larger_than_a_chunk(
    lake: LakeFSLake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("versioning.lake.lakefs_backend.SPOOL_MEMORY_BYTES", CHUNK_SIZE)
    size = 3 * CHUNK_SIZE + 7
    source = Unseekable(size)
    stat = lake.upload("calls", "main", "audio/long.wav", source, content_type="audio/wav")
    assert stat.size_bytes == size and stat.content_type == "audio/wav"
    digest = hashlib.sha256()
    with lake.open("calls", "main", "audio/long.wav") as stream:
        while chunk := stream.read(CHUNK_SIZE // 3):
            digest.update(chunk)
    assert digest.hexdigest() == source.digest.hexdigest()


def test_fake_server_upload_sends_files_as_streams_not_bytes(
    lake: LakeFSLake, tmp_path: Path
) -> None:
    src = tmp_path / "big.bin"
    with open(src, "wb") as out:
        out.write(os.urandom(2 * CHUNK_SIZE + 1))
    pool = lake.client.sdk_client.objects_api.api_client.rest_client.pool_manager
    seen: list[tuple[Any, dict[str, str]]] = []
    real_request = pool.request

    def spy(method: str, url: str, **kwargs: Any) -> Any:
        seen.append((kwargs.get("body"), dict(kwargs.get("headers") or {})))
        return real_request(method, url, **kwargs)

    pool.request = spy
    try:
        lake.upload("calls", "main", "big.bin", src)
    finally:
        pool.request = real_request
    body, headers = seen[-1]
    assert hasattr(body, "read") and not isinstance(body, bytes | bytearray)
    assert headers["Content-Length"] == str(src.stat().st_size)
    assert lake.read_bytes("calls", "main", "big.bin") == src.read_bytes()


def test_fake_server_open_reads_partially_and_closes_early(lake: LakeFSLake) -> None:
    data = os.urandom(CHUNK_SIZE * 2)
    lake.upload("calls", "main", "part.bin", data)
    with lake.open("calls", "main", "part.bin") as stream:
        assert stream.read(10) == data[:10]
    assert lake.read_bytes("calls", "main", "part.bin") == data  # the pool still works


# ---- pagination ---------------------------------------------------------------------------


def test_fake_server_listing_pages_over_more_than_1000_objects(tmp_path: Path) -> None:
    server_lake = local_lake(tmp_path / "server")
    server_lake.create_repository("many")
    paths = [f"calls/{i:05d}.json" for i in range(1203)]
    server_lake.upload_many("many", "main", [(p, p.encode()) for p in paths])
    server_lake.commit("many", "main", "many")
    with serve(server_lake) as server:
        lake = LakeFSLake(fake_client(server.url))
        listed = [o.path for o in lake.list_objects("many", "main", "calls/")]
        small_pages = LakeFSLake(fake_client(server.url), page_size=50)
        listed_small = [o.path for o in small_pages.list_objects("many", "main")]
        diff = small_pages.diff("many", "main~1", "main")
    assert listed == paths
    assert listed_small == paths
    assert [d.path for d in diff] == paths


def test_fake_server_small_pages_for_branches_tags_log_and_changes(tmp_path: Path) -> None:
    with fake_lakefs_lake(tmp_path / "server", page_size=2) as lake:
        lake.create_repository("paged")
        for i in range(5):
            lake.upload("paged", "main", f"f{i}", str(i).encode())
            lake.commit("paged", "main", f"c{i}")
            lake.create_branch("paged", f"b{i}", "main")
            lake.create_tag("paged", f"t{i}", "main")
        for i in range(5):
            lake.upload("paged", "main", f"g{i}", b"g")
        assert [c.message for c in lake.log("paged", "main")][:5] == [
            f"c{i}" for i in range(4, -1, -1)
        ]
        assert len(lake.log("paged", "main")) == 6
        assert len(lake.log("paged", "main", amount=3)) == 3
        assert [b.id for b in lake.list_branches("paged")] == [f"b{i}" for i in range(5)] + ["main"]
        assert [t.id for t in lake.list_tags("paged")] == [f"t{i}" for i in range(5)]
        assert [d.path for d in lake.uncommitted("paged", "main")] == [f"g{i}" for i in range(5)]


def test_fake_server_upload_keeps_metadata_and_content_type(lake: LakeFSLake) -> None:
    lake.upload(
        "calls", "main", "m.wav", b"w", content_type="audio/wav", metadata={"speaker": "s1"}
    )
    [stat] = [o for o in lake.list_objects("calls", "main") if isinstance(o, ObjectStat)]
    assert stat.content_type == "audio/wav"
    assert stat.metadata == {"speaker": "s1"}
    assert stat == lake.stat("calls", "main", "m.wav")


# ---- branch protection and merges, answered as lakeFS answers them -----------------------


def _rule(pattern: str) -> lakefs_sdk.BranchProtectionRule:
    return lakefs_sdk.BranchProtectionRule(pattern=pattern)


def _etag(response: Any) -> str:
    return {k.lower(): v for k, v in (response.headers or {}).items()}["etag"]


def test_fake_server_protection_rules_have_an_etag_and_refuse_a_stale_update(
    lake: LakeFSLake,
) -> None:
    api = lake.client.sdk_client.repositories_api
    empty = api.get_branch_protection_rules_with_http_info("calls")
    assert empty.data == [] and _etag(empty) == ""  # lakeFS: no rules stored -> ETag ""
    api.set_branch_protection_rules("calls", [_rule("main")])
    current = api.get_branch_protection_rules_with_http_info("calls")
    assert [r.pattern for r in current.data] == ["main"] and _etag(current)
    api.set_branch_protection_rules(
        "calls", [_rule("main"), _rule("rel-*")], if_match=_etag(current)
    )
    with pytest.raises(lakefs_sdk.ApiException) as stale:
        api.set_branch_protection_rules("calls", [_rule("dev")], if_match=_etag(current))
    assert stale.value.status == 412
    assert lake.list_branch_protection("calls") == ["main", "rel-*"]


def test_protection_change_is_redone_when_another_client_changed_the_rules_first(
    lake: LakeFSLake, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = LakeFSLake(lake.client)
    lake.add_branch_protection("calls", "main")
    read = lake._protection
    raced = []

    def read_then_lose_the_race(repository: str) -> tuple[list[str], str | None]:
        seen = read(repository)
        if not raced:
            raced.append(True)
            other.add_branch_protection(repository, "release-*")  # writes between our read/put
        return seen

    monkeypatch.setattr(lake, "_protection", read_then_lose_the_race)
    lake.add_branch_protection("calls", "dev")
    assert other.list_branch_protection("calls") == ["dev", "main", "release-*"]


def test_fake_server_protected_branch_takes_merges_but_no_direct_change(lake: LakeFSLake) -> None:
    """lakeFS: writes and commits answer 403; merges go in (only pre-merge hooks veto them)."""
    sdk = lake.client.sdk_client
    lake.upload("calls", "main", "a", b"1")
    lake.commit("calls", "main", "base")
    lake.create_branch("calls", "dev", "main")
    lake.upload("calls", "dev", "d", b"d")
    lake.commit("calls", "dev", "dev")
    lake.add_branch_protection("calls", "main")
    commit = lakefs_sdk.CommitCreation(message="direct", allow_empty=True)
    with pytest.raises(lakefs_sdk.ApiException) as refused:
        sdk.commits_api.commit("calls", "main", commit)
    assert refused.value.status == 403 and "cannot commit to protected branch" in refused.value.body
    with pytest.raises(lakefs_sdk.ApiException) as refused:
        sdk.branches_api.reset_branch("calls", "main", lakefs_sdk.ResetCreation(type="reset"))
    assert refused.value.status == 403 and "cannot write to protected branch" in refused.value.body
    bulk = sdk.objects_api.delete_objects("calls", "main", lakefs_sdk.PathList(paths=["a"]))
    assert [(e.status_code, e.message) for e in bulk.errors] == [
        (403, "cannot write to protected branch")
    ]
    sdk.refs_api.merge_into_branch("calls", "dev", "main")  # e.g. `lakectl merge`
    assert lake.read_bytes("calls", "main", "d") == b"d"
    assert lake.get_commit("calls", "main").metadata == {".lakefs.merge.strategy": "default"}


def test_fake_server_answers_a_merge_without_changes_like_lakefs(lake: LakeFSLake) -> None:
    lake.create_branch("calls", "dev", "main")
    lake.upload("calls", "dev", "d", b"d")
    lake.commit("calls", "dev", "dev")
    lake.merge("calls", "dev", "main")
    with pytest.raises(lakefs_sdk.ApiException) as again:
        lake.client.sdk_client.refs_api.merge_into_branch("calls", "dev", "main")
    assert again.value.status == 400 and "no changes" in again.value.body
    head = lake.get_branch("calls", "main").commit_id
    assert lake.merge("calls", "dev", "main") == MergeResult(head, fast_forward=False, changes=0)


# ---- a real server ------------------------------------------------------------------------


@pytest.mark.lakefs_server
@pytest.mark.skipif(
    not os.environ.get("LAKECTL_SERVER_ENDPOINT_URL"),
    reason="needs a real lakeFS server: set LAKECTL_SERVER_ENDPOINT_URL and credentials",
)
def test_real_lakefs_server_round_trip() -> None:
    """Needs ``VOICEOPS_LAKEFS_STORAGE_NAMESPACE`` too (e.g. ``local://`` on a quickstart)."""
    namespace = os.environ.get("VOICEOPS_LAKEFS_STORAGE_NAMESPACE", "local://voiceops-tests")
    lake = LakeFSLake.from_lakectl_config(storage_namespace=namespace)
    repo = f"voiceops-test-{uuid.uuid4().hex[:10]}"
    lake.create_repository(repo)
    try:
        lake.create_branch(repo, "ingest-1", "main")
        lake.upload(repo, "ingest-1", "raw/a.txt", b"hello", metadata={"k": "v"})
        assert [d.path for d in lake.uncommitted(repo, "ingest-1")] == ["raw/a.txt"]
        commit = lake.commit(repo, "ingest-1", "ingest", {"run": "1"})
        lake.merge(repo, "ingest-1", "main")
        assert lake.read_bytes(repo, "main", "raw/a.txt") == b"hello"
        assert lake.stat(repo, "main", "raw/a.txt").metadata == {"k": "v"}
        assert commit.id in [c.id for c in lake.log(repo, "main")]
        lake.create_tag(repo, "v1", "main")
        assert lake.resolve_ref(repo, "v1") == lake.get_branch(repo, "main").commit_id
        with pytest.raises(NothingToCommitError):
            lake.commit(repo, "main", "nothing")
    finally:
        lake.delete_repository(repo)
