"""The production lake backend: a lakeFS server reached through the ``lakefs`` Python SDK.

Semantics (branches, commits, merges, ref expressions) are the server's; this module validates
inputs, converts SDK results to :mod:`versioning.lake.models` and maps HTTP errors to
:mod:`versioning.lake.errors`. Object bytes are streamed in both directions (constant memory).

Differences from the local backend that callers may notice:

* ``commit(committer=...)`` is ignored: lakeFS records the authenticated user as committer.
* ``DiffEntry.left_size`` of a changed object is unknown (lakeFS reports one size per entry).
* ``gc`` and ``fsck`` are server-side (GC rules + the GC job); they raise ``UnsupportedError``.
* Branch protection is the server's: lakeFS refuses uploads, deletes, commits and resets on
  a protected branch (403), but allows merges into it, reverts on it and deleting it (unless
  it is the default branch); the local backend refuses reverts and deletes too.
* Merges into a protected branch run ``merge_checks`` here first (a clear early refusal),
  but what enforces the rule is the server's pre-merge hook (``lakefs/_lakefs_actions/``),
  which lakeFS runs inside its update of the destination branch. lakeFS has no
  "expected head" for merges: ``expected_destination_head`` is checked here just before the
  merge (best effort); the hook re-checks what would land against the head it sees.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, cast

import lakefs
import lakefs_sdk
import urllib3
from lakefs.exceptions import LakeFSException, NoAuthenticationFound, ServerException
from lakefs.reference import generate_listing

from versioning.lake.base import (
    CHUNK_SIZE,
    Lake,
    MergeCheck,
    Source,
    protected_by,
    run_merge_checks,
)
from versioning.lake.errors import (
    AlreadyExistsError,
    ConflictError,
    DirtyBranchError,
    InvalidInputError,
    LakeError,
    MergeVetoedError,
    NotFoundError,
    NothingToCommitError,
    PreconditionFailedError,
    ProtectedBranchError,
    UnsupportedError,
)
from versioning.lake.models import (
    ChangeType,
    Commit,
    CommonPrefix,
    DiffEntry,
    FsckReport,
    GCReport,
    MergeRequest,
    MergeResult,
    ObjectStat,
    Ref,
    Repository,
)
from versioning.lake.validation import (
    validate_branch,
    validate_metadata,
    validate_path,
    validate_protection_pattern,
    validate_repository,
    validate_tag,
)

#: lakeFS's maximum page size for listings.
MAX_PAGE_SIZE = 1000
#: Unseekable upload sources are spooled to disk beyond this many bytes (to learn their size).
SPOOL_MEMORY_BYTES = 8 * CHUNK_SIZE
#: How often a protection rule change is retried when another client changed the rules first.
PROTECTION_UPDATE_TRIES = 5
_AUTH_SETTINGS = ["basic_auth", "cookie_auth", "oidc_auth", "saml_auth", "jwt_token"]
_META_HEADER = "x-lakefs-meta-"
_DEFAULT_CONTENT_TYPE = "application/octet-stream"
_CHANGE_TYPES = {t.value: t for t in ChangeType}

GC_MESSAGE = (
    "garbage collection on lakeFS is the server-side GC job, driven by the repository's GC "
    "rules: configure them with `lakectl gc set-config lakefs://{repo} -f rules.json` and let "
    "the lakeFS GC job (Spark) delete unreachable objects"
)
FSCK_MESSAGE = (
    "consistency of lakeFS repository {repo} is the lakeFS server's responsibility "
    "(its metadata store and object store); there is no client-side fsck"
)


class LakeFSLake(Lake):
    """A :class:`Lake` on a lakeFS server (``lakefs`` SDK 0.16 over ``lakefs-sdk`` 1.x)."""

    def __init__(
        self,
        client: lakefs.Client,
        *,
        storage_namespace: str = "",
        page_size: int = MAX_PAGE_SIZE,
        merge_checks: tuple[MergeCheck, ...] = (),
    ):
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidInputError(f"invalid page_size {page_size}: must be 1..{MAX_PAGE_SIZE}")
        self.client = client
        self.storage_namespace = storage_namespace
        self.page_size = page_size
        self.merge_checks = tuple(merge_checks)

    @classmethod
    def from_lakectl_config(
        cls, storage_namespace: str = "", merge_checks: tuple[MergeCheck, ...] = ()
    ) -> LakeFSLake:
        """Configure like lakectl: ``LAKECTL_*`` variables, else ``~/.lakectl.yaml``."""
        try:
            client = lakefs.Client()
        except NoAuthenticationFound as err:
            raise InvalidInputError(
                "no lakeFS credentials: set LAKECTL_SERVER_ENDPOINT_URL, "
                "LAKECTL_CREDENTIALS_ACCESS_KEY_ID and LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY "
                "or write ~/.lakectl.yaml (lakectl config)"
            ) from err
        except LakeFSException as err:
            raise InvalidInputError(f"invalid lakeFS client configuration: {err}") from err
        if not client.config.host or not client.config.host.startswith(("http://", "https://")):
            raise InvalidInputError(
                "no lakeFS endpoint: set LAKECTL_SERVER_ENDPOINT_URL or server.endpoint_url "
                "in ~/.lakectl.yaml"
            )
        return cls(client, storage_namespace=storage_namespace, merge_checks=merge_checks)

    @property
    def endpoint(self) -> str:
        """The API base URL (``http://host:port/api/v1``)."""
        return str(self.client.config.host)

    def __repr__(self) -> str:
        return f"LakeFSLake({self.endpoint!r})"

    # ---- plumbing -------------------------------------------------------------------------
    @property
    def _sdk(self) -> Any:
        return self.client.sdk_client

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """Translate SDK, HTTP and connection errors raised inside into lake errors."""
        try:
            yield
        except LakeError:
            raise
        except ServerException as err:
            raise translate_error(err.status_code, _server_message(err), what) from err
        except lakefs_sdk.ApiException as err:
            raise translate_error(err.status, _body_message(err.body, err.reason), what) from err
        except urllib3.exceptions.HTTPError as err:
            raise LakeError(
                f"{what}: cannot reach lakeFS at {self.endpoint}: {_one_line(err)}"
            ) from err
        except LakeFSException as err:
            raise LakeError(f"{what}: {_one_line(err)}") from err

    def _list(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Iterator[Any]:
        """All results of a paginated SDK listing, ``page_size`` per request."""
        kwargs.setdefault("amount", self.page_size)
        return generate_listing(func, *args, **kwargs)

    def _repo(self, repository: str) -> lakefs.Repository:
        return lakefs.Repository(validate_repository(repository), client=self.client)

    def _branch(self, repository: str, branch: str) -> lakefs.Branch:
        return self._repo(repository).branch(validate_branch(branch))

    def _raw_request(
        self,
        method: str,
        resource_path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: BinaryIO | None = None,
        *,
        preload: bool = True,
    ) -> urllib3.BaseHTTPResponse:
        """A request the generated SDK cannot stream (uploads and downloads), with auth."""
        api_client = self._sdk.objects_api.api_client
        quoted = urllib.parse.quote(resource_path, encoding="utf-8")
        url = f"{self.endpoint}{quoted}?{urllib.parse.urlencode(query, encoding='utf-8')}"
        api_client.update_params_for_auth(headers, None, _AUTH_SETTINGS, quoted, method, None)
        resp = api_client.rest_client.pool_manager.request(
            method, url, headers=headers, body=body, preload_content=preload
        )
        if not 200 <= resp.status < 300:
            data = resp.data
            resp.release_conn()
            raise lakefs_sdk.ApiException(
                status=resp.status, reason=_body_message(data, resp.reason)
            )
        return resp

    # ---- repositories -------------------------------------------------------------------
    def create_repository(self, repository: str, default_branch: str = "main") -> Repository:
        repo = self._repo(repository)
        validate_branch(default_branch)
        namespace = self._namespace_for(repository)
        with self._errors(f"repository {repository!r}"):
            repo.create(storage_namespace=namespace, default_branch=default_branch)
            return _repository(repo.properties)

    def _namespace_for(self, repository: str) -> str:
        if not self.storage_namespace:
            raise InvalidInputError(
                f"cannot create repository {repository!r} on lakeFS: no storage namespace "
                "configured (set lakefs_storage_namespace, e.g. s3://bucket/lakefs)"
            )
        return f"{self.storage_namespace.rstrip('/')}/{repository}"

    def get_repository(self, repository: str) -> Repository:
        repo = self._repo(repository)
        with self._errors(f"repository {repository!r}"):
            return _repository(repo.properties)

    def list_repositories(self) -> list[Repository]:
        with self._errors("list repositories"):
            return [
                _repository(r) for r in self._list(self._sdk.repositories_api.list_repositories)
            ]

    def delete_repository(self, repository: str) -> None:
        repo = self._repo(repository)
        with self._errors(f"repository {repository!r}"):
            repo.delete()

    # ---- branches and tags --------------------------------------------------------------
    def create_branch(self, repository: str, branch: str, source_ref: str) -> Ref:
        handle = self._branch(repository, branch)
        _validate_ref(source_ref)
        with self._errors(f"branch lakefs://{repository}/{branch} (from {source_ref!r})"):
            handle.create(source_ref)
            return Ref(branch, handle.head.id)

    def get_branch(self, repository: str, branch: str) -> Ref:
        handle = self._branch(repository, branch)
        with self._errors(f"branch lakefs://{repository}/{branch}"):
            return Ref(branch, handle.head.id)

    def list_branches(self, repository: str) -> list[Ref]:
        validate_repository(repository)
        with self._errors(f"branches of repository {repository!r}"):
            refs = self._list(self._sdk.branches_api.list_branches, repository)
            return [Ref(r.id, r.commit_id) for r in refs]

    def delete_branch(self, repository: str, branch: str) -> None:
        handle = self._branch(repository, branch)
        with self._errors(f"branch lakefs://{repository}/{branch}"):
            handle.delete()

    def create_tag(self, repository: str, tag: str, ref: str) -> Ref:
        validate_repository(repository)
        validate_tag(tag)
        _validate_ref(ref)
        creation = lakefs_sdk.TagCreation(id=tag, ref=ref)
        with self._errors(f"tag {tag!r} in repository {repository!r} (at {ref!r})"):
            created = self._sdk.tags_api.create_tag(repository, creation)
            return Ref(created.id, created.commit_id)

    def list_tags(self, repository: str) -> list[Ref]:
        validate_repository(repository)
        with self._errors(f"tags of repository {repository!r}"):
            return [
                Ref(r.id, r.commit_id) for r in self._list(self._sdk.tags_api.list_tags, repository)
            ]

    def delete_tag(self, repository: str, tag: str) -> None:
        validate_tag(tag)
        handle = self._repo(repository).tag(tag)
        with self._errors(f"tag {tag!r} in repository {repository!r}"):
            handle.delete()

    def resolve_ref(self, repository: str, ref: str) -> str:
        return self.get_commit(repository, ref).id

    # ---- branch protection --------------------------------------------------------------
    def _protection(self, repository: str) -> tuple[list[str], str | None]:
        """The rules' patterns and the ETag that guards their update."""
        validate_repository(repository)
        with self._errors(f"branch protection rules of repository {repository!r}"):
            resp = self._sdk.repositories_api.get_branch_protection_rules_with_http_info(repository)
        headers = {k.lower(): v for k, v in (resp.headers or {}).items()}
        return sorted(rule.pattern for rule in resp.data or []), headers.get("etag")

    def _set_protection(self, repository: str, patterns: list[str], etag: str | None) -> None:
        """Replace the rules if they are still at ``etag`` (412 otherwise).

        lakeFS's ETag of "no rules stored" is "", which the SDK does not send: the first rule
        of a repository is written unconditionally.
        """
        rules = [lakefs_sdk.BranchProtectionRule(pattern=p) for p in sorted(patterns)]
        with self._errors(f"branch protection rules of repository {repository!r}"):
            self._sdk.repositories_api.set_branch_protection_rules(repository, rules, if_match=etag)

    def _update_protection(self, repository: str, change: Callable[[list[str]], list[str]]) -> None:
        """Read, change and write back the rules; redone when another client wrote first."""
        for _ in range(PROTECTION_UPDATE_TRIES):
            patterns, etag = self._protection(repository)
            try:
                self._set_protection(repository, change(patterns), etag)
                return
            except PreconditionFailedError:
                continue
        raise PreconditionFailedError(
            f"branch protection rules of repository {repository!r} kept changing under this "
            f"update ({PROTECTION_UPDATE_TRIES} tries); try again"
        )

    def add_branch_protection(self, repository: str, pattern: str) -> None:
        validate_protection_pattern(pattern)

        def add(patterns: list[str]) -> list[str]:
            if pattern in patterns:
                raise AlreadyExistsError(f"branch protection rule {pattern!r} already exists")
            return [*patterns, pattern]

        self._update_protection(repository, add)

    def list_branch_protection(self, repository: str) -> list[str]:
        return self._protection(repository)[0]

    def delete_branch_protection(self, repository: str, pattern: str) -> None:
        def delete(patterns: list[str]) -> list[str]:
            if pattern not in patterns:
                raise NotFoundError(f"branch protection rule {pattern!r} not found in {repository}")
            return [p for p in patterns if p != pattern]

        self._update_protection(repository, delete)

    def merge_base(self, repository: str, left_ref: str, right_ref: str) -> str | None:
        validate_repository(repository)
        _validate_ref(left_ref)
        _validate_ref(right_ref)
        with self._errors(f"merge base of {left_ref!r} and {right_ref!r} in {repository!r}"):
            try:
                found = self._sdk.refs_api.find_merge_base(repository, left_ref, right_ref)
            except lakefs_sdk.ApiException as err:
                # lakeFS does not map its ErrNoMergeBase to a status (500)
                if "no merge base" in _body_message(err.body).lower():
                    return None
                raise
        # Only the base is used: lakeFS fills source_commit_id / destination_commit_id the
        # other way round (its catalog passes destination, source to graveler's from, to).
        return found.base_commit_id or None

    # ---- objects ------------------------------------------------------------------------
    def upload(
        self,
        repository: str,
        branch: str,
        path: str,
        source: Source,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ObjectStat:
        validate_repository(repository)
        validate_branch(branch)
        validate_path(path)
        headers = _upload_headers(content_type, validate_metadata(metadata))
        resource = f"/repositories/{repository}/branches/{branch}/objects"
        with (
            self._errors(f"upload lakefs://{repository}/{branch}/{path}"),
            open_source(source) as (stream, size),
        ):
            headers["Content-Length"] = str(size)
            resp = self._raw_request("POST", resource, {"path": path}, headers, stream)
            return _object_stat(json.loads(resp.data))

    def open(self, repository: str, ref: str, path: str) -> BinaryIO:
        validate_repository(repository)
        _validate_ref(ref)
        validate_path(path)
        resource = f"/repositories/{repository}/refs/{ref}/objects"
        headers = {"Accept": "application/octet-stream"}
        with self._errors(f"lakefs://{repository}/{ref}/{path}"):
            resp = self._raw_request(
                "GET", resource, {"path": path, "presign": "false"}, headers, preload=False
            )
        return cast(BinaryIO, io.BufferedReader(_ResponseStream(resp), CHUNK_SIZE))

    def stat(self, repository: str, ref: str, path: str) -> ObjectStat:
        validate_repository(repository)
        _validate_ref(ref)
        validate_path(path)
        with self._errors(f"lakefs://{repository}/{ref}/{path}"):
            stats = self._sdk.objects_api.stat_object(
                repository, ref, path, user_metadata=True, presign=False
            )
            return _object_stat(stats.to_dict())

    def list_objects(
        self, repository: str, ref: str, prefix: str = "", delimiter: str | None = None
    ) -> Iterator[ObjectStat | CommonPrefix]:
        validate_repository(repository)
        _validate_ref(ref)
        validate_path(prefix, allow_prefix=True)
        return self._iter_objects(repository, ref, prefix, delimiter or "")

    def _iter_objects(
        self, repository: str, ref: str, prefix: str, delimiter: str
    ) -> Iterator[ObjectStat | CommonPrefix]:
        listing = self._list(
            self._sdk.objects_api.list_objects,
            repository=repository,
            ref=ref,
            prefix=prefix,
            delimiter=delimiter,
            user_metadata=True,
            presign=False,
        )
        with self._errors(f"list lakefs://{repository}/{ref}/{prefix}"):
            for item in listing:
                if item.path_type == "common_prefix":
                    yield CommonPrefix(item.path)
                else:
                    yield _object_stat(item.to_dict())

    def delete_object(self, repository: str, branch: str, path: str) -> None:
        validate_repository(repository)
        validate_branch(branch)
        validate_path(path)
        # The generated API, not ``lakefs.StoredObject.delete``: the wrapper drops the body of
        # a 403, which tells a protected branch from missing permissions.
        with self._errors(f"delete lakefs://{repository}/{branch}/{path}"):
            self._sdk.objects_api.delete_object(repository, branch, path)

    # ---- changes and commits ------------------------------------------------------------
    def uncommitted(self, repository: str, branch: str, prefix: str = "") -> list[DiffEntry]:
        handle = self._branch(repository, branch)
        validate_path(prefix, allow_prefix=True)
        with self._errors(f"uncommitted changes of lakefs://{repository}/{branch}"):
            return [
                _diff_entry(c) for c in handle.uncommitted(prefix=prefix, amount=self.page_size)
            ]

    def reset(self, repository: str, branch: str, path: str | None = None) -> None:
        handle = self._branch(repository, branch)
        if path is None:
            kind, what = "reset", f"lakefs://{repository}/{branch}"
        else:
            validate_path(path, allow_prefix=True)
            kind = "common_prefix" if path.endswith("/") or path == "" else "object"
            what = f"lakefs://{repository}/{branch}/{path}"
        with self._errors(f"reset {what}"):
            handle.reset_changes(path_type=kind, path=path)  # type: ignore[arg-type]

    def commit(
        self,
        repository: str,
        branch: str,
        message: str,
        metadata: dict[str, str] | None = None,
        *,
        committer: str | None = None,
        allow_empty: bool = False,
    ) -> Commit:
        """Commit staged changes; lakeFS records the authenticated user, not ``committer``."""
        validate_repository(repository)
        validate_branch(branch)
        creation = lakefs_sdk.CommitCreation(
            message=message, metadata=validate_metadata(metadata), allow_empty=allow_empty
        )
        with self._errors(f"commit on lakefs://{repository}/{branch}"):
            return _commit(self._sdk.commits_api.commit(repository, branch, creation))

    def get_commit(self, repository: str, ref: str) -> Commit:
        validate_repository(repository)
        _validate_ref(ref)
        with self._errors(f"ref lakefs://{repository}/{ref}"):
            return _commit(self._sdk.commits_api.get_commit(repository, ref))

    def log(self, repository: str, ref: str, amount: int | None = None) -> list[Commit]:
        _validate_ref(ref)
        if amount is not None and amount <= 0:
            return []
        handle = self._repo(repository).ref(ref)
        page = min(self.page_size, amount or self.page_size)
        with self._errors(f"log of lakefs://{repository}/{ref}"):
            return [_commit(c) for c in handle.log(max_amount=amount, amount=page)]

    def diff(
        self, repository: str, left_ref: str, right_ref: str, prefix: str = ""
    ) -> list[DiffEntry]:
        """Two-dot diff; left sizes of changed objects come from the reversed diff."""
        _validate_ref(left_ref)
        _validate_ref(right_ref)
        validate_path(prefix, allow_prefix=True)
        repo = self._repo(repository)
        with self._errors(f"diff lakefs://{repository}/{left_ref}..{right_ref}"):
            entries = [_diff_entry(c) for c in self._changes(repo, left_ref, right_ref, prefix)]
            if not any(e.type == ChangeType.CHANGED for e in entries):
                return entries
            left_sizes = {
                c.path: c.size_bytes
                for c in self._changes(repo, right_ref, left_ref, prefix)
                if c.type == "changed"
            }
        return [_with_left_size(e, left_sizes) for e in entries]

    def _changes(
        self, repo: lakefs.Repository, left_ref: str, right_ref: str, prefix: str
    ) -> Iterator[Any]:
        return repo.ref(left_ref).diff(
            right_ref, prefix=prefix, type="two_dot", amount=self.page_size
        )

    def merge(
        self,
        repository: str,
        source_ref: str,
        destination_branch: str,
        *,
        message: str | None = None,
        metadata: dict[str, str] | None = None,
        strategy: str | None = None,
        allow_fast_forward: bool = True,
        expected_destination_head: str | None = None,
    ) -> MergeResult:
        _validate_ref(source_ref)
        if strategy not in (None, "source-wins", "dest-wins"):
            raise InvalidInputError(
                f"invalid merge strategy {strategy!r}: use 'source-wins' or 'dest-wins'"
            )
        source = self._repo(repository).ref(source_ref)
        validate_branch(destination_branch)
        what = f"merge lakefs://{repository}/{source_ref} into {destination_branch!r}"
        kwargs = {"message": message, "metadata": validate_metadata(metadata), "strategy": strategy}
        with self._errors(what):
            before = self.get_branch(repository, destination_branch).commit_id
            if expected_destination_head not in (None, before):
                raise PreconditionFailedError(
                    f"{what} refused: the branch is at {before[:12]}, not at the expected "
                    f"{str(expected_destination_head)[:12]}"
                )
            source_id = self.resolve_ref(repository, source_ref)
            self._check_protected_merge(
                repository,
                source_ref,
                source_id,
                destination_branch,
                before,
                message,
                kwargs["metadata"],
            )
            try:
                merged = source.merge_into(destination_branch, **kwargs)
            except ServerException as err:
                if err.status_code == 400 and "no changes" in _server_message(err):
                    return MergeResult(before, fast_forward=False, changes=0)  # already merged
                if err.status_code == 409:
                    paths = self._conflict_paths(repository, source_id, destination_branch)
                    raise ConflictError(
                        f"{what}: conflict ({_server_message(err)})", paths
                    ) from err
                raise
            changes = 0 if merged == before else len(self.diff(repository, before, merged))
        return MergeResult(merged, merged == source_id, changes)

    def _check_protected_merge(
        self,
        repository: str,
        source_ref: str,
        source_id: str,
        destination: str,
        head: str,
        message: str | None,
        metadata: dict[str, str],
    ) -> None:
        """The client-side pre-merge checks (the server's hook is what enforces them)."""
        rule = protected_by(self.list_branch_protection(repository), destination)
        if rule is None:
            return
        base = self.merge_base(repository, source_id, head)
        if base == source_id:
            return  # already merged: nothing changes
        request = MergeRequest(
            repository, source_ref, source_id, destination, head, base, message or "", metadata
        )
        run_merge_checks(self.merge_checks, request, rule)

    def _conflict_paths(self, repository: str, source_id: str, destination: str) -> list[str]:
        """Paths changed differently on both sides since the merge base (best effort)."""
        try:
            dest = self._sdk.branches_api.get_branch(repository, destination).commit_id
            base = self.merge_base(repository, source_id, dest)
            if base is None:
                return []
            ours = {d.path: d for d in self._diff_stats(repository, base, source_id)}
            theirs = self._diff_stats(repository, base, dest)
        except (lakefs_sdk.ApiException, LakeFSException, LakeError, urllib3.exceptions.HTTPError):
            return []
        return sorted(d.path for d in theirs if d.path in ours and _differs(ours[d.path], d))

    def _diff_stats(self, repository: str, left: str, right: str) -> list[Any]:
        return list(
            self._list(
                self._sdk.refs_api.diff_refs,
                repository=repository,
                left_ref=left,
                right_ref=right,
                type="two_dot",
                include_right_stats=True,
            )
        )

    def revert(self, repository: str, branch: str, ref: str, *, parent_number: int = 1) -> Commit:
        handle = self._branch(repository, branch)
        _validate_ref(ref)
        if parent_number < 1:
            raise InvalidInputError(f"invalid parent_number {parent_number}: must be >= 1")
        with self._errors(f"revert {ref!r} on lakefs://{repository}/{branch}"):
            return _commit(handle.revert(ref, parent_number=parent_number))

    # ---- maintenance --------------------------------------------------------------------
    def gc(self, repository: str, retention_days: float = 7.0) -> GCReport:
        raise UnsupportedError(GC_MESSAGE.format(repo=validate_repository(repository)))

    def fsck(self, repository: str, *, verify_content: bool = False) -> FsckReport:
        raise UnsupportedError(FSCK_MESSAGE.format(repo=validate_repository(repository)))


# ---- errors -------------------------------------------------------------------------------
def translate_error(status: int | None, message: str, what: str) -> LakeError:
    """The lake error for a lakeFS HTTP status and its error message."""
    detail = _one_line(message) or "no details"
    lowered = detail.lower()
    if "pre-merge hook aborted" in lowered:  # lakeFS: 412 if a hook said no, 500 if it broke
        return MergeVetoedError(f"{what}: refused by a pre-merge hook ({detail})")
    if status == 404:
        return NotFoundError(f"{what}: not found ({detail})")
    if status == 409:
        if "conflict" in lowered:
            return ConflictError(f"{what}: conflict ({detail})", [])
        return AlreadyExistsError(f"{what}: already exists ({detail})")
    if status == 400:
        if "no changes" in lowered:
            return NothingToCommitError(f"{what}: nothing to commit ({detail})")
        if "dirty branch" in lowered or "uncommitted changes" in lowered:
            return DirtyBranchError(f"{what}: branch has uncommitted changes ({detail})")
        return InvalidInputError(f"{what}: rejected by lakeFS ({detail})")
    if status == 403 and "default branch" in lowered:
        return InvalidInputError(f"{what}: {detail}")
    if status == 403 and "protected branch" in lowered:
        return ProtectedBranchError(f"{what}: the branch is protected ({detail})")
    if status in (401, 403):
        return LakeError(f"{what}: not authorized by lakeFS ({detail}); check the credentials")
    if status == 412:
        if "hook" in lowered or "action" in lowered:
            return MergeVetoedError(f"{what}: refused by a pre-merge hook ({detail})")
        return PreconditionFailedError(f"{what}: precondition failed ({detail})")
    if status == 501:
        return UnsupportedError(f"{what}: not supported by this lakeFS server ({detail})")
    return LakeError(f"{what}: lakeFS error {status} ({detail})")


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def _body_message(body: object, fallback: object = "") -> str:
    """The ``message`` of a lakeFS JSON error body, else the raw body or ``fallback``."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str) and body:
        try:
            parsed = json.loads(body)
        except ValueError:
            return body
        if isinstance(parsed, dict) and parsed.get("message"):
            return str(parsed["message"])
    return str(fallback or "")


def _server_message(err: ServerException) -> str:
    body = err.body if isinstance(err.body, dict) else {}
    return str(body.get("message") or err.reason or "")


# ---- conversions --------------------------------------------------------------------------
def _validate_ref(ref: str) -> str:
    """A ref is a branch, a tag or a commit, with optional ``~N``/``^N`` suffixes."""
    if not isinstance(ref, str) or not ref or "/" in ref or any(c.isspace() for c in ref):
        raise InvalidInputError(f"invalid ref {ref!r}: a branch, tag or commit id")
    return ref


def _repository(props: Any) -> Repository:
    return Repository(
        id=props.id,
        default_branch=props.default_branch,
        creation_date=float(props.creation_date),
        storage_namespace=props.storage_namespace or "",
    )


def _commit(c: Any) -> Commit:
    return Commit(
        id=c.id,
        parents=tuple(c.parents or ()),
        message=c.message,
        committer=c.committer,
        creation_date=float(c.creation_date),
        metadata=dict(c.metadata or {}),
        meta_range_id=c.meta_range_id or "",
    )


def _object_stat(d: dict[str, Any]) -> ObjectStat:
    return ObjectStat(
        path=d["path"],
        checksum=d.get("checksum") or "",
        size_bytes=int(d.get("size_bytes") or 0),
        mtime=float(d.get("mtime") or 0),
        content_type=d.get("content_type") or _DEFAULT_CONTENT_TYPE,
        metadata=dict(d.get("metadata") or {}),
    )


def _diff_entry(change: Any) -> DiffEntry:
    kind = _CHANGE_TYPES.get(change.type, ChangeType.CHANGED)
    size = change.size_bytes
    if kind == ChangeType.REMOVED:
        return DiffEntry(change.path, kind, left_size=size)
    if kind == ChangeType.ADDED:
        return DiffEntry(change.path, kind, right_size=size)
    return DiffEntry(change.path, kind, right_size=size)


def _with_left_size(entry: DiffEntry, left_sizes: dict[str, int | None]) -> DiffEntry:
    if entry.type != ChangeType.CHANGED:
        return entry
    return DiffEntry(entry.path, entry.type, left_sizes.get(entry.path), entry.right_size)


def _differs(ours: Any, theirs: Any) -> bool:
    """Whether two diff entries (against the same base) leave the path in different states."""
    if ours.type == "removed" or theirs.type == "removed":
        return ours.type != theirs.type
    if ours.right is None or theirs.right is None:
        return True
    return bool(ours.right.checksum != theirs.right.checksum)


def _upload_headers(content_type: str | None, metadata: dict[str, str]) -> dict[str, str]:
    headers = {"Accept": "application/json", "Content-Type": content_type or _DEFAULT_CONTENT_TYPE}
    for key, value in metadata.items():
        headers[_META_HEADER + key] = value
    return headers


@contextlib.contextmanager
def open_source(source: Source) -> Iterator[tuple[BinaryIO, int]]:
    """An upload source as a stream and its remaining size, without reading it into memory."""
    if isinstance(source, bytes | bytearray | memoryview):
        yield io.BytesIO(source), len(source)
    elif isinstance(source, str | os.PathLike):
        yield from _open_path(source)
    elif hasattr(source, "read"):
        yield from _measure_stream(source)
    else:
        raise InvalidInputError(
            f"invalid upload source {type(source).__name__}: a path, a binary stream or bytes"
        )


def _open_path(source: str | os.PathLike[str]) -> Iterator[tuple[BinaryIO, int]]:
    try:
        stream = open(source, "rb")  # noqa: SIM115 - closed below
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as err:
        raise InvalidInputError(f"upload source {os.fspath(source)}: {err.strerror}") from err
    with stream:
        yield stream, os.fstat(stream.fileno()).st_size


def _measure_stream(stream: BinaryIO) -> Iterator[tuple[BinaryIO, int]]:
    """A seekable stream's remaining size; an unseekable one is spooled (to disk if large)."""
    seekable = getattr(stream, "seekable", None)
    if seekable is not None and seekable():
        start = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(start)
        yield stream, end - start
        return
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES) as spool:
        size = 0
        while chunk := stream.read(CHUNK_SIZE):
            if isinstance(chunk, str):
                raise InvalidInputError("invalid upload source: a text stream (open it in 'rb')")
            size += spool.write(chunk)
        spool.seek(0)
        yield cast(BinaryIO, spool), size


class _ResponseStream(io.RawIOBase):
    """A streamed HTTP response body as a raw binary stream; closing releases the connection."""

    def __init__(self, resp: urllib3.BaseHTTPResponse):
        self._resp = resp

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._resp.readinto(buffer)

    def close(self) -> None:
        if not self.closed:
            if self._resp.length_remaining:  # unread bytes: the connection cannot be reused
                self._resp.close()
            self._resp.release_conn()
        super().close()
