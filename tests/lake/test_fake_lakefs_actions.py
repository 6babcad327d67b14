"""The fake lakeFS runs pre-merge webhooks from ``_lakefs_actions/`` as lakeFS does."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.fakes.fake_lakefs import fake_lakefs_lake
from tests.fakes.fake_lakefs_actions import expand_env, go_duration_seconds
from versioning.lake import LakeError, MergeVetoedError, NotFoundError
from versioning.lake.lakefs_backend import LakeFSLake

REPO = "calls"


@dataclass
class Call:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    event: dict[str, Any]


@dataclass
class Receiver:
    """A webhook endpoint that records each call and answers ``status`` (after ``delay_s``)."""

    url: str
    calls: list[Call] = field(default_factory=list)
    status: int = 200
    delay_s: float = 0.0
    on_call: Callable[[Call], None] | None = None


@contextlib.contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    receiver = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            url = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            call = Call(url.path, parse_qs(url.query), dict(self.headers), json.loads(body))
            receiver.calls.append(call)
            if receiver.on_call:
                receiver.on_call(call)
            time.sleep(receiver.delay_s)
            self.send_response(receiver.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[LakeFSLake]:
    with fake_lakefs_lake(tmp_path / "server") as backend:
        backend.create_repository(REPO)
        yield backend


def action(url: str, *, branches: str = "[main]", props: str = "", name: str = "gate") -> bytes:
    return f"""
name: {name}
on:
  pre-merge:
    branches: {branches}
hooks:
  - id: check_it
    type: webhook
    properties:
      url: "{url}"
      timeout: 2s
{props}""".encode()


def with_action(lake: LakeFSLake, data: bytes, name: str = "gate.yaml") -> None:
    lake.upload(REPO, "main", f"_lakefs_actions/{name}", data)
    lake.commit(REPO, "main", f"action {name}")


def branch_with_change(lake: LakeFSLake, branch: str = "dev") -> str:
    lake.create_branch(REPO, branch, "main")
    lake.upload(REPO, branch, f"{branch}.txt", branch.encode())
    return lake.commit(REPO, branch, f"work on {branch}").id


def test_a_pre_merge_webhook_gets_the_lakefs_event(lake: LakeFSLake, receiver: Receiver) -> None:
    with_action(lake, action(receiver.url + "/hook?static=1"))
    head = lake.get_branch(REPO, "main").commit_id
    source = branch_with_change(lake)
    merged = lake.merge(REPO, "dev", "main", message="ship it", metadata={"k": "v"})
    (call,) = receiver.calls
    assert call.path == "/hook" and call.query == {"static": ["1"]}
    assert call.headers["Content-Type"] == "application/json"
    event = call.event
    assert event["event_type"] == "pre-merge" and event["event_time"].endswith("Z")
    assert (event["action_name"], event["hook_id"]) == ("gate", "check_it")
    assert (event["repository_id"], event["branch_id"]) == (REPO, "main")
    assert (event["source_ref"], event["merge_source"]) == (source, "dev")
    assert event["commit_message"] == "ship it" and event["committer"]
    assert event["commit_metadata"] == {"k": "v", ".lakefs.merge.strategy": "default"}
    assert "commit_id" not in event  # pre-* events carry no commit id (the merge is not made)
    assert merged.commit_id == lake.get_branch(REPO, "main").commit_id != head


def test_a_refusing_webhook_aborts_the_merge_with_412(lake: LakeFSLake, receiver: Receiver) -> None:
    with_action(lake, action(receiver.url))
    branch_with_change(lake)
    head = lake.get_branch(REPO, "main").commit_id
    receiver.status = 412
    with pytest.raises(MergeVetoedError, match=r"hook 'check_it'.*status code: 412"):
        lake.merge(REPO, "dev", "main")
    assert lake.get_branch(REPO, "main").commit_id == head


def test_a_slow_webhook_times_out_and_aborts_the_merge(
    lake: LakeFSLake, receiver: Receiver
) -> None:
    with_action(lake, action(receiver.url).replace(b"timeout: 2s", b"timeout: 200ms"))
    branch_with_change(lake)
    receiver.delay_s = 1.0
    with pytest.raises(MergeVetoedError, match="timed out"):
        lake.merge(REPO, "dev", "main")


def test_only_actions_of_the_source_matching_the_destination_run(
    lake: LakeFSLake, receiver: Receiver
) -> None:
    with_action(lake, action(receiver.url, branches="[release-*]"))
    branch_with_change(lake)
    lake.merge(REPO, "dev", "main")  # the action is for release-* only
    assert receiver.calls == []
    lake.create_branch(REPO, "release-1", "main")
    branch_with_change(lake, "fix")
    lake.merge(REPO, "fix", "release-1")
    assert [c.event["branch_id"] for c in receiver.calls] == ["release-1"]


def test_actions_are_read_from_the_merge_source(lake: LakeFSLake, receiver: Receiver) -> None:
    """lakeFS runs pre-merge actions "on the source": a source without them skips the hook."""
    with_action(lake, action(receiver.url))
    receiver.status = 412
    lake.create_branch(REPO, "sneaky", "main")
    lake.delete_object(REPO, "sneaky", "_lakefs_actions/gate.yaml")
    lake.commit(REPO, "sneaky", "drop the gate")
    lake.merge(REPO, "sneaky", "main")
    assert receiver.calls == [] and not lake.exists(REPO, "main", "_lakefs_actions/gate.yaml")


def test_headers_and_query_params_expand_only_prefixed_env_vars(
    lake: LakeFSLake, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEFSACTION_TOKEN", "s3cret")
    monkeypatch.setenv("HOME_SECRET", "must-not-leak")
    props = """      query_params:
        token: "{{ ENV.LAKEFSACTION_TOKEN }}"
        many: ["a", "b"]
      headers:
        X-Token: "{{ ENV.LAKEFSACTION_TOKEN }}"
        X-Blocked: "{{ ENV.HOME_SECRET }}"
"""
    with_action(lake, action(receiver.url, props=props))
    branch_with_change(lake)
    lake.merge(REPO, "dev", "main")
    (call,) = receiver.calls
    assert call.query == {"token": ["s3cret"], "many": ["a", "b"]}
    assert call.headers["X-Token"] == "s3cret"
    assert call.headers["X-Blocked"] == ""  # outside actions.env.prefix: an empty string


def test_a_missing_env_var_fails_the_run_before_any_hook(
    lake: LakeFSLake, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAKEFSACTION_ABSENT", raising=False)
    props = '      headers:\n        X-Token: "{{ ENV.LAKEFSACTION_ABSENT }}"\n'
    with_action(lake, action(receiver.url, props=props))
    branch_with_change(lake)
    head = lake.get_branch(REPO, "main").commit_id
    with pytest.raises(MergeVetoedError, match="LAKEFSACTION_ABSENT not found"):
        lake.merge(REPO, "dev", "main")
    assert receiver.calls == [] and lake.get_branch(REPO, "main").commit_id == head


def test_the_url_is_literal(
    lake: LakeFSLake, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lakeFS docs: ``url`` has no env var support, so a templated url cannot be reached."""
    monkeypatch.setenv("LAKEFSACTION_URL", receiver.url)
    with_action(lake, action("{{ ENV.LAKEFSACTION_URL }}/hook"))
    branch_with_change(lake)
    with pytest.raises(MergeVetoedError, match="hook 'check_it'"):
        lake.merge(REPO, "dev", "main")
    assert receiver.calls == []


def test_an_invalid_action_file_fails_every_merge_from_its_source(
    lake: LakeFSLake, receiver: Receiver
) -> None:
    with_action(lake, b"name: broken\nhooks: []\n")  # no 'on'
    branch_with_change(lake)
    with pytest.raises(MergeVetoedError, match="'on' is required"):
        lake.merge(REPO, "dev", "main")


def test_hooks_other_than_webhooks_are_a_known_gap(lake: LakeFSLake) -> None:
    lua = b"name: lua\non:\n  pre-merge:\nhooks:\n  - id: check\n    type: lua\n"
    with_action(lake, lua + b"    properties:\n      script: 'return true'\n")
    branch_with_change(lake)
    with pytest.raises(LakeError, match="only webhook hooks"):
        lake.merge(REPO, "dev", "main")


def test_a_merge_whose_destination_moved_during_the_hooks_is_redone(
    lake: LakeFSLake, receiver: Receiver
) -> None:
    """lakeFS merges only onto the head the hooks saw; when it moved, hooks run again."""
    with_action(lake, action(receiver.url, branches="[target]"))
    lake.create_branch(REPO, "target", "main")
    branch_with_change(lake)
    other = LakeFSLake(lake.client)

    def move_target_once(call: Call) -> None:
        if len(receiver.calls) == 1:
            other.upload(REPO, "target", "meanwhile.txt", b"m")
            other.commit(REPO, "target", "moved during the hook")

    receiver.on_call = move_target_once
    lake.merge(REPO, "dev", "target")
    assert len(receiver.calls) == 2
    assert lake.exists(REPO, "target", "meanwhile.txt") and lake.exists(REPO, "target", "dev.txt")
    merge_commit = lake.get_commit(REPO, "target")
    assert merge_commit.parents[0] == lake.get_commit(REPO, "target~1").id
    assert lake.get_commit(REPO, "target~1").message == "moved during the hook"


def test_env_expansion_and_durations_follow_lakefs() -> None:
    environ = {"LAKEFSACTION_A": "1"}
    assert expand_env("x{{ ENV.LAKEFSACTION_A }}y", "LAKEFSACTION_", environ) == "x1y"
    assert expand_env("{{ENV.LAKEFSACTION_A}}", "LAKEFSACTION_", environ) == "1"
    assert expand_env("{{ ENV.LAKEFSACTIONS_A }}", "LAKEFSACTION_", environ) == ""
    assert expand_env("plain", "LAKEFSACTION_", environ) == "plain"
    with pytest.raises(ValueError, match="LAKEFSACTION_B not found"):
        expand_env("{{ ENV.LAKEFSACTION_B }}", "LAKEFSACTION_", environ)
    assert go_duration_seconds("1m30s") == 90 and go_duration_seconds("250ms") == 0.25
    with pytest.raises(ValueError, match="invalid duration"):
        go_duration_seconds("10 minutes")


def test_no_merge_happens_for_an_unknown_source(lake: LakeFSLake) -> None:
    with pytest.raises(NotFoundError):
        lake.merge(REPO, "ghost", "main")
