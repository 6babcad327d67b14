"""A fake lakeFS server: the lakeFS REST API (``/api/v1``) over an embedded ``LocalLake``.

The fake has no semantics of its own: each request becomes calls on a ``LocalLake``
and the answer is shaped as lakeFS shapes it (OpenAPI models,
status codes, error bodies ``{"message": ...}``, pagination). Only the subset of the API
that :class:`versioning.lake.lakefs_backend.LakeFSLake` and the ``lakefs`` SDK use is served.

Where lakeFS's rules differ from ``LocalLake``'s, the fake applies lakeFS's (its graveler):

* merges never fast-forward (lakeFS#3316): they always write a merge commit, whose metadata
  records ``.lakefs.merge.strategy``; a source with no changes since the merge base is
  answered 400 "no changes" (``ErrNoChanges``), not merged as a no-op;
* branch protection rules (``/settings/branch_protection``, ETag / If-Match) are kept here,
  not in the ``LocalLake``: uploads, deletes and resets on a protected branch answer 403
  "cannot write to protected branch", commits 403 "cannot commit to protected branch";
  merges into it, reverts and deleting it (unless it is the default branch) are allowed;
* every merge runs the pre-merge webhooks of the source's ``_lakefs_actions/``
  (``fake_lakefs_actions``). lakeFS runs them inside a conditional update of the destination
  branch and redoes the whole merge (hooks included) when the branch moved meanwhile, up to
  10 tries; the fake does the same with ``expected_destination_head``.

Known gaps: three-dot diffs (answered 501); a merge whose hooks refuse it and which would
also conflict answers 412 (lakeFS finds the conflict first: 409).
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import hashlib
import io
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakes.fake_lakefs_actions import (
    DEFAULT_ENV_PREFIX,
    ActionRunError,
    PreMerge,
    run_pre_merge,
)
from versioning.lake.base import CHUNK_SIZE
from versioning.lake.errors import (
    AlreadyExistsError,
    ConflictError,
    DirtyBranchError,
    InvalidInputError,
    LakeError,
    NotFoundError,
    NothingToCommitError,
    PreconditionFailedError,
    UnsupportedError,
)
from versioning.lake.local import LocalLake
from versioning.lake.models import (
    ChangeType,
    Commit,
    CommonPrefix,
    DiffEntry,
    ObjectStat,
    Repository,
)

API_PREFIX = "/api/v1"
DEFAULT_AMOUNT = 100
MAX_AMOUNT = 1000
FAKE_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
FAKE_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
FAKE_STORAGE_NAMESPACE = "local://fake-lakefs"
_META_HEADER = "x-lakefs-meta-"
#: graveler ``BranchUpdateMaxTries``: how often a merge is redone when its branch moved.
BRANCH_UPDATE_TRIES = 10
MERGE_STRATEGY_KEY = ".lakefs.merge.strategy"
WRITE_TO_PROTECTED = "cannot write to protected branch"
COMMIT_TO_PROTECTED = "cannot commit to protected branch"


class HTTPError(Exception):
    """An error answer: status and lakeFS-style message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Request:
    """What a route handler sees of a request."""

    params: list[str]
    query: dict[str, str]
    headers: Any
    body: BinaryIO
    user: str

    def json(self) -> dict[str, Any]:
        parsed = self._parse(b"{}")
        if not isinstance(parsed, dict):
            raise HTTPError(400, "invalid JSON body: expected an object")
        return parsed

    def json_list(self) -> list[Any]:
        parsed = self._parse(b"[]")
        if not isinstance(parsed, list):
            raise HTTPError(400, "invalid JSON body: expected an array")
        return parsed

    def _parse(self, empty: bytes) -> Any:
        try:
            return json.loads(self.body.read() or empty)
        except ValueError as err:
            raise HTTPError(400, f"invalid JSON body: {err}") from err

    def flag(self, name: str) -> bool:
        """A boolean query parameter, parsed like Go's ``strconv.ParseBool`` (the SDK sends
        ``True``)."""
        return self.query.get(name, "") in {"1", "t", "T", "true", "True", "TRUE"}

    def amount(self) -> int:
        amount = int(self.query.get("amount") or DEFAULT_AMOUNT)
        if amount < 0:
            return DEFAULT_AMOUNT
        return min(amount, MAX_AMOUNT)


@dataclass
class Response:
    """An answer: JSON (``body`` any) or raw bytes/stream with a content type."""

    status: int
    body: Any = None
    content_type: str = "application/json"
    stream: BinaryIO | None = None
    length: int = 0
    headers: dict[str, str] | None = None


Handler = Callable[[Request], Response]


# ---- lakeFS shapes ------------------------------------------------------------------------
def repository_json(repo: Repository, namespace: str) -> dict[str, Any]:
    return {
        "id": repo.id,
        "creation_date": int(repo.creation_date),
        "default_branch": repo.default_branch,
        "storage_namespace": namespace or repo.storage_namespace or FAKE_STORAGE_NAMESPACE,
        "storage_id": "",
        "read_only": False,
    }


def commit_json(commit: Commit) -> dict[str, Any]:
    return {
        "id": commit.id,
        "parents": list(commit.parents),
        "committer": commit.committer,
        "message": commit.message,
        "creation_date": int(commit.creation_date),
        "meta_range_id": commit.meta_range_id,
        "metadata": dict(commit.metadata),
        "generation": 0,
        "version": 1,
    }


def object_json(repository: str, stat: ObjectStat) -> dict[str, Any]:
    return {
        "path": stat.path,
        "path_type": "object",
        "physical_address": f"{FAKE_STORAGE_NAMESPACE}/{repository}/data/{stat.checksum}",
        "checksum": stat.checksum,
        "size_bytes": stat.size_bytes,
        "mtime": int(stat.mtime),
        "metadata": dict(stat.metadata),
        "content_type": stat.content_type,
    }


def diff_json(entry: DiffEntry, right: ObjectStat | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": str(entry.type),
        "path": entry.path,
        "path_type": "common_prefix" if entry.type == ChangeType.PREFIX_CHANGED else "object",
        "size_bytes": entry.size_bytes,
    }
    if right is not None:
        out["right"] = {
            "checksum": right.checksum,
            "mtime": int(right.mtime),
            "content_type": right.content_type,
            "metadata": dict(right.metadata),
        }
    return out


def page(
    items: Iterable[Any], request: Request, key: Callable[[Any], str], *, by_position: bool = False
) -> dict[str, Any]:
    """One lakeFS page of ``items`` (sorted by ``key``) after ``?after=``, ``?amount=`` long.

    ``by_position`` (commit logs): ``after`` is the key of the last item seen, not a bound.
    """
    after = request.query.get("after", "")
    amount = request.amount()
    results: list[Any] = []
    has_more = False
    seen_after = not after
    for item in items:
        if not seen_after:
            if by_position:
                seen_after = key(item) == after
                continue
            if key(item) <= after:
                continue
            seen_after = True
        if len(results) == amount:
            has_more = True
            break
        results.append(item)
    next_offset = key(results[-1]) if has_more and results else ""
    return {
        "pagination": {
            "has_more": has_more,
            "next_offset": next_offset,
            "results": len(results),
            "max_per_page": MAX_AMOUNT,
        },
        "results": results,
    }


def error_for(err: LakeError) -> HTTPError:
    """The status and message lakeFS answers for the same condition."""
    text = " ".join(str(err).split())
    if isinstance(err, NotFoundError):
        return HTTPError(404, f"not found: {text}")
    if isinstance(err, AlreadyExistsError):
        return HTTPError(409, f"not unique: {text}")
    if isinstance(err, ConflictError):
        return HTTPError(409, f"conflict found: {text}")
    if isinstance(err, NothingToCommitError):
        return HTTPError(400, f"commit: no changes: {text}")
    if isinstance(err, DirtyBranchError):
        return HTTPError(400, f"uncommitted changes (dirty branch): {text}")
    if isinstance(err, InvalidInputError):
        return HTTPError(400, f"validation error: {text}")
    if isinstance(err, UnsupportedError):
        return HTTPError(501, text)
    return HTTPError(500, text)


# ---- the API ------------------------------------------------------------------------------
class FakeLakeFSAPI:
    """Routes lakeFS API calls to a :class:`LocalLake`.

    ``actions_env_prefix`` is lakeFS's ``actions.env.prefix``: hooks see only environment
    variables whose names start with it.
    """

    def __init__(self, lake: LocalLake, *, actions_env_prefix: str = DEFAULT_ENV_PREFIX):
        self.lake = lake
        self.actions_env_prefix = actions_env_prefix
        self.namespaces: dict[str, str] = {}
        #: repository -> protection patterns (absent: never set; lakeFS's ETag is then "")
        self.protection: dict[str, list[str]] = {}
        self._protection_lock = threading.Lock()
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._register()

    def _route(self, method: str, pattern: str, handler: Handler) -> None:
        regex = "^" + re.sub(r"\{\w+\}", "([^/]+)", pattern) + "$"
        self.routes.append((method, re.compile(regex), handler))

    def _register(self) -> None:
        r = "/repositories/{repository}"
        b = r + "/branches/{branch}"
        for method, pattern, handler in [
            ("GET", "/config", self.get_config),
            ("GET", "/healthcheck", lambda _req: Response(204)),
            ("GET", "/repositories", self.list_repositories),
            ("POST", "/repositories", self.create_repository),
            ("GET", r, self.get_repository),
            ("DELETE", r, self.delete_repository),
            ("GET", r + "/settings/branch_protection", self.get_branch_protection),
            ("PUT", r + "/settings/branch_protection", self.set_branch_protection),
            ("GET", r + "/branches", self.list_branches),
            ("POST", r + "/branches", self.create_branch),
            ("GET", b, self.get_branch),
            ("DELETE", b, self.delete_branch),
            ("PUT", b, self.reset_branch),
            ("GET", b + "/diff", self.diff_branch),
            ("POST", b + "/commits", self.commit),
            ("POST", b + "/revert", self.revert),
            ("POST", b + "/objects", self.upload_object),
            ("DELETE", b + "/objects", self.delete_object),
            ("POST", b + "/objects/delete", self.delete_objects),
            ("GET", r + "/commits/{ref}", self.get_commit),
            ("GET", r + "/refs/{ref}/commits", self.log_commits),
            ("GET", r + "/refs/{ref}/objects", self.get_object),
            ("HEAD", r + "/refs/{ref}/objects", self.head_object),
            ("GET", r + "/refs/{ref}/objects/stat", self.stat_object),
            ("GET", r + "/refs/{ref}/objects/ls", self.list_objects),
            ("GET", r + "/refs/{left}/diff/{right}", self.diff_refs),
            ("POST", r + "/refs/{source}/merge/{destination}", self.merge),
            ("GET", r + "/refs/{source}/merge/{destination}", self.find_merge_base),
            ("GET", r + "/tags", self.list_tags),
            ("POST", r + "/tags", self.create_tag),
            ("GET", r + "/tags/{tag}", self.get_tag),
            ("DELETE", r + "/tags/{tag}", self.delete_tag),
        ]:
            self._route(method, pattern, handler)

    def find(self, method: str, path: str) -> tuple[Handler, list[str]]:
        allowed = False
        for route_method, regex, handler in self.routes:
            match = regex.match(path)
            if match:
                if route_method == method:
                    return handler, [unquote(g) for g in match.groups()]
                allowed = True
        if allowed:
            raise HTTPError(405, f"method {method} not allowed on {path}")
        raise HTTPError(404, f"fake lakeFS: no route for {method} {path}")

    # ---- config and repositories ----------------------------------------------------------
    def get_config(self, _req: Request) -> Response:
        storage = {
            "blockstore_type": "local",
            "blockstore_namespace_example": "local://example-bucket/",
            "blockstore_namespace_ValidityRegex": "^local://",
            "pre_sign_support": False,
            "pre_sign_support_ui": False,
            "import_support": False,
            "import_validity_regex": "^local://",
        }
        return Response(200, {"version_config": {"version": "fake"}, "storage_config": storage})

    def _repository(self, repo: Repository) -> dict[str, Any]:
        return repository_json(repo, self.namespaces.get(repo.id, ""))

    def list_repositories(self, req: Request) -> Response:
        prefix = req.query.get("prefix", "")
        repos = (self._repository(r) for r in self.lake.list_repositories())
        chosen = (r for r in repos if r["id"].startswith(prefix))
        return Response(200, page(chosen, req, lambda r: r["id"]))

    def create_repository(self, req: Request) -> Response:
        body = req.json()
        name, namespace = body.get("name"), body.get("storage_namespace")
        if not name or not namespace:
            raise HTTPError(400, "validation error: name and storage_namespace are required")
        repo = self.lake.create_repository(name, body.get("default_branch") or "main")
        self.namespaces[repo.id] = namespace
        return Response(201, self._repository(repo))

    def get_repository(self, req: Request) -> Response:
        return Response(200, self._repository(self.lake.get_repository(req.params[0])))

    def delete_repository(self, req: Request) -> Response:
        self.lake.delete_repository(req.params[0])
        self.namespaces.pop(req.params[0], None)
        with self._protection_lock:
            self.protection.pop(req.params[0], None)
        return Response(204)

    # ---- branch protection ----------------------------------------------------------------
    def _protection_etag(self, repository: str) -> str:
        """lakeFS: a checksum of the stored rules, "" when none (or an empty set) is stored."""
        patterns = self.protection.get(repository)
        if not patterns:
            return ""
        return hashlib.sha256("\n".join(sorted(patterns)).encode()).hexdigest()

    def get_branch_protection(self, req: Request) -> Response:
        repository = self.lake.get_repository(req.params[0]).id
        with self._protection_lock:
            rules = [{"pattern": p} for p in self.protection.get(repository, [])]
            etag = self._protection_etag(repository)
        return Response(200, rules, headers={"ETag": etag})

    def set_branch_protection(self, req: Request) -> Response:
        repository = self.lake.get_repository(req.params[0]).id
        patterns = []
        for rule in req.json_list():
            pattern = rule.get("pattern") if isinstance(rule, dict) else None
            if not isinstance(pattern, str) or not pattern:
                raise HTTPError(400, "validation error: pattern is required")
            patterns.append(pattern)
        if_match = req.headers.get("If-Match")
        with self._protection_lock:
            if if_match is not None and not self._etag_matches(repository, if_match):
                raise HTTPError(412, "Precondition failed")
            self.protection[repository] = list(dict.fromkeys(patterns))
        return Response(204)

    def _etag_matches(self, repository: str, if_match: str) -> bool:
        """lakeFS settings: If-Match "" = only if no rules are stored yet; else the checksum."""
        if if_match == "":
            return repository not in self.protection
        return repository in self.protection and self._protection_etag(repository) == if_match

    def _refuse_if_protected(self, repository: str, branch: str, message: str) -> None:
        """lakeFS's graveler checks protection (glob patterns) before writing to a branch."""
        with self._protection_lock:
            patterns = list(self.protection.get(repository, []))
        if any(fnmatch.fnmatchcase(branch, p) for p in patterns):
            raise HTTPError(403, message)

    # ---- branches and tags ----------------------------------------------------------------
    def list_branches(self, req: Request) -> Response:
        prefix = req.query.get("prefix", "")
        refs = (
            {"id": r.id, "commit_id": r.commit_id} for r in self.lake.list_branches(req.params[0])
        )
        chosen = sorted((r for r in refs if r["id"].startswith(prefix)), key=lambda r: r["id"])
        return Response(200, page(chosen, req, lambda r: r["id"]))

    def create_branch(self, req: Request) -> Response:
        body = req.json()
        ref = self.lake.create_branch(req.params[0], body.get("name", ""), body.get("source", ""))
        return Response(201, ref.commit_id.encode(), content_type="text/html")

    def get_branch(self, req: Request) -> Response:
        ref = self.lake.get_branch(*req.params)
        return Response(200, {"id": ref.id, "commit_id": ref.commit_id})

    def delete_branch(self, req: Request) -> Response:
        self.lake.delete_branch(*req.params)
        return Response(204)

    def reset_branch(self, req: Request) -> Response:
        body = req.json()
        kind, path = body.get("type"), body.get("path")
        if kind not in ("reset", "object", "common_prefix"):
            raise HTTPError(400, f"validation error: invalid reset type {kind!r}")
        if kind != "reset" and path is None:
            raise HTTPError(400, "missing path: required value: validation error")
        self._refuse_if_protected(*req.params, WRITE_TO_PROTECTED)
        self.lake.reset(*req.params, None if kind == "reset" else path)
        return Response(204)

    def list_tags(self, req: Request) -> Response:
        prefix = req.query.get("prefix", "")
        refs = ({"id": r.id, "commit_id": r.commit_id} for r in self.lake.list_tags(req.params[0]))
        chosen = sorted((r for r in refs if r["id"].startswith(prefix)), key=lambda r: r["id"])
        return Response(200, page(chosen, req, lambda r: r["id"]))

    def create_tag(self, req: Request) -> Response:
        body = req.json()
        ref = self.lake.create_tag(req.params[0], body.get("id", ""), body.get("ref", ""))
        return Response(201, {"id": ref.id, "commit_id": ref.commit_id})

    def get_tag(self, req: Request) -> Response:
        repository, tag = req.params
        for ref in self.lake.list_tags(repository):
            if ref.id == tag:
                return Response(200, {"id": ref.id, "commit_id": ref.commit_id})
        raise HTTPError(404, f"not found: tag {tag!r}")

    def delete_tag(self, req: Request) -> Response:
        self.lake.delete_tag(*req.params)
        return Response(204)

    # ---- commits --------------------------------------------------------------------------
    def commit(self, req: Request) -> Response:
        body = req.json()
        if body.get("message") is None:
            raise HTTPError(400, "validation error: message is required")
        self._refuse_if_protected(req.params[0], req.params[1], COMMIT_TO_PROTECTED)
        commit = self.lake.commit(
            req.params[0],
            req.params[1],
            body["message"],
            body.get("metadata"),
            committer=req.user,
            allow_empty=bool(body.get("allow_empty")),
        )
        return Response(201, commit_json(commit))

    def get_commit(self, req: Request) -> Response:
        return Response(200, commit_json(self.lake.get_commit(*req.params)))

    def log_commits(self, req: Request) -> Response:
        commits = (commit_json(c) for c in self.lake.log(*req.params))
        return Response(200, page(commits, req, lambda c: c["id"], by_position=True))

    def revert(self, req: Request) -> Response:
        body = req.json()
        parent = int(body.get("parent_number") or 1)
        self.lake.revert(req.params[0], req.params[1], body.get("ref", ""), parent_number=parent)
        return Response(204)

    def merge(self, req: Request) -> Response:
        """graveler ``Merge``: dirty check, merge base, "no changes", pre-merge hooks, merge.

        The hooks run against the destination head they are told about; the merge then
        applies only if the branch is still there, else the whole merge is redone (lakeFS's
        conditional branch update with retries).
        """
        repository, source, destination = req.params
        body = req.json()
        strategy = body.get("strategy") or None
        if strategy not in (None, "source-wins", "dest-wins"):
            raise HTTPError(400, "invalid merge strategy")
        message = body.get("message") or f"Merge '{source}' into '{destination}'"
        metadata = dict(body.get("metadata") or {}) | {MERGE_STRATEGY_KEY: strategy or "default"}
        for _ in range(BRANCH_UPDATE_TRIES):
            head = self.lake.get_branch(repository, destination).commit_id
            if self.lake.uncommitted(repository, destination):
                raise DirtyBranchError(f"{destination}: the destination branch of the merge")
            source_id = self.lake.resolve_ref(repository, source)
            base = self.lake.merge_base(repository, source_id, head)
            if base is None:
                raise HTTPError(500, f"update branch {destination}: no merge base")
            if not body.get("allow_empty") and not self.lake.diff(repository, base, source_id):
                raise HTTPError(400, f"update branch {destination}: no changes")
            self._pre_merge_hooks(
                PreMerge(repository, destination, source_id, source, message, req.user, metadata)
            )
            try:
                result = self.lake.merge(
                    repository,
                    source_id,
                    destination,
                    message=message,
                    metadata=metadata,
                    strategy=strategy,
                    allow_fast_forward=False,  # lakeFS always writes a merge commit (lakeFS#3316)
                    expected_destination_head=head,
                )
            except PreconditionFailedError:
                continue  # the destination moved while the hooks ran: redo, hooks included
            return Response(200, {"reference": result.commit_id})
        raise HTTPError(429, "Too many attempts, try again later")

    def _pre_merge_hooks(self, merge: PreMerge) -> None:
        try:
            run_pre_merge(self.lake, merge, env_prefix=self.actions_env_prefix)
        except ActionRunError as err:
            raise HTTPError(err.status, err.message) from None

    def find_merge_base(self, req: Request) -> Response:
        repository, source, destination = req.params
        source_id = self.lake.resolve_ref(repository, source)
        dest_id = self.lake.resolve_ref(repository, destination)
        base = self.lake.merge_base(repository, source_id, dest_id)
        if base is None:  # graveler ErrNoMergeBase is not mapped to a status: 500
            raise HTTPError(500, f"find merge base: no merge base for {source} and {destination}")
        body = {"source_commit_id": source_id, "destination_commit_id": dest_id}
        return Response(200, body | {"base_commit_id": base})

    # ---- diffs ----------------------------------------------------------------------------
    def diff_branch(self, req: Request) -> Response:
        repository, branch = req.params
        entries = self.lake.uncommitted(repository, branch, req.query.get("prefix", ""))
        rows = sorted((diff_json(e) for e in entries), key=lambda d: d["path"])
        return Response(200, page(rows, req, lambda d: d["path"]))

    def diff_refs(self, req: Request) -> Response:
        repository, left, right = req.params
        if req.query.get("type", "three_dot") != "two_dot":
            raise HTTPError(501, "fake lakeFS: only two_dot diffs (no merge base in the Lake API)")
        entries = self.lake.diff(repository, left, right, req.query.get("prefix", ""))
        with_stats = req.flag("include_right_stats")
        rows = sorted(
            (diff_json(e, self._right_stat(repository, right, e, with_stats)) for e in entries),
            key=lambda d: d["path"],
        )
        return Response(200, page(rows, req, lambda d: d["path"]))

    def _right_stat(
        self, repository: str, right: str, entry: DiffEntry, wanted: bool
    ) -> ObjectStat | None:
        if not wanted or entry.type in (ChangeType.REMOVED, ChangeType.PREFIX_CHANGED):
            return None
        return self.lake.stat(repository, right, entry.path)

    # ---- objects --------------------------------------------------------------------------
    def upload_object(self, req: Request) -> Response:
        repository, branch = req.params
        path = self._path(req)
        metadata = {
            key[len(_META_HEADER) :]: value
            for key, value in req.headers.items()
            if key.lower().startswith(_META_HEADER)
        }
        content_type = req.headers.get("Content-Type") or None
        self._refuse_if_protected(repository, branch, WRITE_TO_PROTECTED)
        stat = self.lake.upload(
            repository, branch, path, req.body, content_type=content_type, metadata=metadata
        )
        return Response(201, object_json(repository, stat))

    def delete_object(self, req: Request) -> Response:
        path = self._path(req)
        self._refuse_if_protected(*req.params, WRITE_TO_PROTECTED)
        self.lake.delete_object(*req.params, path)
        return Response(204)

    def delete_objects(self, req: Request) -> Response:
        repository, branch = req.params
        paths = req.json().get("paths") or []
        try:
            self._refuse_if_protected(repository, branch, WRITE_TO_PROTECTED)
        except HTTPError as refused:  # lakeFS reports the batch's error on every path
            rows = [{"status_code": 403, "message": refused.message, "path": p} for p in paths]
            return Response(200, {"errors": rows})
        errors = []
        for path in paths:
            try:
                self.lake.delete_object(repository, branch, path)
            except NotFoundError:
                continue  # lakeFS: deleting a missing object in a bulk delete is not an error
            except LakeError as err:
                answer = error_for(err)
                errors.append(
                    {"status_code": answer.status, "message": answer.message, "path": path}
                )
        return Response(200, {"errors": errors})

    def stat_object(self, req: Request) -> Response:
        repository, ref = req.params
        return Response(
            200, object_json(repository, self.lake.stat(repository, ref, self._path(req)))
        )

    def head_object(self, req: Request) -> Response:
        stat = self.lake.stat(*req.params, self._path(req))
        return Response(200, headers={"Content-Length": str(stat.size_bytes)})

    def get_object(self, req: Request) -> Response:
        repository, ref = req.params
        path = self._path(req)
        stat = self.lake.stat(repository, ref, path)
        start, end = parse_range(req.headers.get("Range"), stat.size_bytes)
        stream = self.lake.open(repository, ref, path)
        try:
            skip(stream, start)
        except BaseException:
            stream.close()
            raise
        headers = {"ETag": f'"{stat.checksum}"', "Last-Modified": str(int(stat.mtime))}
        status = 200
        if req.headers.get("Range"):
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{stat.size_bytes}"
        return Response(
            status,
            content_type=stat.content_type,
            stream=stream,
            length=end - start,
            headers=headers,
        )

    def list_objects(self, req: Request) -> Response:
        repository, ref = req.params
        prefix = req.query.get("prefix", "")
        delimiter = req.query.get("delimiter") or None
        items = self.lake.list_objects(repository, ref, prefix, delimiter)
        rows = (listing_json(repository, item) for item in items)
        return Response(200, page(rows, req, lambda d: d["path"]))

    @staticmethod
    def _path(req: Request) -> str:
        path = req.query.get("path")
        if not path:
            raise HTTPError(400, "missing path: required value: validation error")
        return path


def listing_json(repository: str, item: ObjectStat | CommonPrefix) -> dict[str, Any]:
    if isinstance(item, CommonPrefix):
        return {
            "path": item.path,
            "path_type": "common_prefix",
            "physical_address": "",
            "checksum": "",
            "mtime": 0,
        }
    return object_json(repository, item)


def parse_range(header: str | None, size: int) -> tuple[int, int]:
    """``[start, end)`` of a ``Range: bytes=a-b`` header (whole object without one)."""
    if not header:
        return 0, size
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
    if not match or match.groups() == ("", ""):
        raise HTTPError(400, f"invalid range {header!r}")
    first, last = match.groups()
    if first == "":  # suffix range: the last N bytes
        start, end = max(0, size - int(last)), size
    else:
        start, end = int(first), size if last == "" else min(size, int(last) + 1)
    if start >= size:
        raise HTTPError(416, f"requested range not satisfiable: {header} of {size} bytes")
    return start, end


def skip(stream: BinaryIO, count: int) -> None:
    """Advance a stream by ``count`` bytes (seeking when it can)."""
    if count <= 0:
        return
    if stream.seekable():
        stream.seek(count, io.SEEK_CUR)
        return
    while count > 0:
        chunk = stream.read(min(count, CHUNK_SIZE))
        if not chunk:
            break
        count -= len(chunk)


class BodyReader(io.RawIOBase):
    """A request body of ``Content-Length`` bytes read from the socket as a stream."""

    def __init__(self, rfile: BinaryIO, length: int):
        self._rfile = rfile
        self.remaining = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.remaining <= 0:
            return 0
        view = memoryview(buffer)[: self.remaining]
        count = self._rfile.readinto(view)  # type: ignore[attr-defined]
        if not count:
            raise ConnectionError("client closed the connection mid-body")
        self.remaining -= count
        return count

    def drain(self) -> None:
        while self.remaining > 0 and self.read(min(self.remaining, CHUNK_SIZE)):
            pass


# ---- HTTP ---------------------------------------------------------------------------------
class FakeLakeFSHandler(BaseHTTPRequestHandler):
    """Turns HTTP requests into :class:`FakeLakeFSAPI` calls."""

    protocol_version = "HTTP/1.1"
    server: FakeLakeFSServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        body = BodyReader(self.rfile, int(self.headers.get("Content-Length") or 0))  # type: ignore[arg-type]
        try:
            response = self._dispatch(method, body)
        except HTTPError as err:
            response = Response(err.status, {"message": err.message})
        except LakeError as err:
            answer = error_for(err)
            response = Response(answer.status, {"message": answer.message})
        except Exception as err:  # a bug in the fake or the lake: answer like lakeFS would
            response = Response(500, {"message": f"internal error: {type(err).__name__}: {err}"})
        body.drain()
        self._send(method, response)

    def _dispatch(self, method: str, body: BodyReader) -> Response:
        user = self._authenticate()
        url = urlsplit(self.path)
        if not url.path.startswith(API_PREFIX):
            raise HTTPError(404, f"fake lakeFS: no route for {url.path}")
        handler, params = self.server.api.find(method, url.path[len(API_PREFIX) :])
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        request = Request(params, query, self.headers, io.BufferedReader(body, CHUNK_SIZE), user)
        return handler(request)

    def _authenticate(self) -> str:
        """Any basic-auth credentials with an access key id are accepted; it is the user."""
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            raise HTTPError(401, "error authenticating request: missing basic auth credentials")
        try:
            user, _, _secret = base64.b64decode(token).decode().partition(":")
        except ValueError as err:
            raise HTTPError(401, "error authenticating request: malformed credentials") from err
        if not user:
            raise HTTPError(401, "error authenticating request: empty access key id")
        return user

    def _send(self, method: str, response: Response) -> None:
        payload = b""
        length = response.length
        if response.stream is None and response.body is not None:
            payload = (
                response.body
                if isinstance(response.body, bytes)
                else json.dumps(response.body).encode()
            )
            length = len(payload)
        self.send_response(response.status)
        if response.status != 204:
            self.send_header("Content-Type", response.content_type)
        headers = dict(response.headers or {})
        headers.setdefault("Content-Length", str(length))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if method == "HEAD":
            return
        if response.stream is not None:
            self._copy(response.stream, length)
        elif payload:
            self.wfile.write(payload)

    def _copy(self, stream: BinaryIO, length: int) -> None:
        with stream:
            while length > 0:
                chunk = stream.read(min(length, CHUNK_SIZE))
                if not chunk:
                    break
                self.wfile.write(chunk)
                length -= len(chunk)


class FakeLakeFSServer(ThreadingHTTPServer):
    """A threading HTTP server holding the fake's API."""

    daemon_threads = True

    def __init__(self, api: FakeLakeFSAPI):
        super().__init__(("127.0.0.1", 0), FakeLakeFSHandler)
        self.api = api

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


@contextlib.contextmanager
def serve(
    lake: LocalLake, *, actions_env_prefix: str = DEFAULT_ENV_PREFIX
) -> Iterator[FakeLakeFSServer]:
    """Serve the lakeFS API over ``lake`` on 127.0.0.1 (a free port) in a thread."""
    server = FakeLakeFSServer(FakeLakeFSAPI(lake, actions_env_prefix=actions_env_prefix))
    thread = threading.Thread(target=server.serve_forever, name="fake-lakefs", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def local_lake(root: Path) -> LocalLake:
    """The embedded backend the fake serves."""
    return LocalLake(Path(root), fsync=False)


@contextlib.contextmanager
def run_fake_lakefs(root: Path) -> Iterator[str]:
    """A fake lakeFS over a ``LocalLake`` in ``root``; yields the endpoint URL."""
    with serve(local_lake(root)) as server:
        yield server.url


def fake_client(endpoint: str) -> Any:
    """A ``lakefs.Client`` for the fake (any credentials work)."""
    import lakefs

    return lakefs.Client(
        host=endpoint, username=FAKE_ACCESS_KEY_ID, password=FAKE_SECRET_ACCESS_KEY
    )


@contextlib.contextmanager
def fake_lakefs_lake(
    root: Path, *, page_size: int = MAX_AMOUNT, merge_checks: tuple[Any, ...] = ()
) -> Iterator[Any]:
    """A ``LakeFSLake`` talking to a fake lakeFS whose data lives in ``root``."""
    from versioning.lake.lakefs_backend import LakeFSLake

    with run_fake_lakefs(root) as endpoint:
        yield LakeFSLake(
            fake_client(endpoint),
            storage_namespace=FAKE_STORAGE_NAMESPACE,
            page_size=page_size,
            merge_checks=merge_checks,
        )
