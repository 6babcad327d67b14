"""The lakeFS pre-merge webhook: before a merge into main, lakeFS asks whether it may go on.

lakeFS POSTs its pre-merge event (https://docs.lakefs.io/guides/hooks/webhooks/) to
``/lakefs/pre-merge`` with the destination branch held for the merge, and aborts the merge on
any non-2xx answer or after the action's ``timeout``. So the hook only *verifies*, in
milliseconds, and never audits (a load + ``dbt build`` belongs before the merge: ``voiceops
warehouse audit`` / ``publish``). It rebuilds the :class:`MergeRequest` lakeFS is about to
execute (the source commit from ``source_ref``, the destination's head and their merge base,
read through a lake client) and answers from :func:`warehouse.guard.merge_problems` with the
strict audit recorded for the source commit:

* 200: the merge publishes a commit whose strict audit of the current dbt project passed,
  and main gains nothing that audit did not see;
* 412: refused; the JSON body lists every problem (lakeFS shows the status, the body is in
  the action run's log);
* 401: the request lacks the shared secret (header ``X-VoiceOps-Hook-Secret``, which the
  action file fills from the lakeFS server's environment); with ``VOICEOPS_AUTH=required``
  a bearer API key or token whose role holds ``lake:pre-merge`` is accepted instead (403
  when its role lacks the scope).

The lakeFS action file that calls this hook is rendered by :func:`action_yaml`.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from core.access import Forbidden, Gatekeeper, Unauthorized
from core.access.roles import LAKE_PRE_MERGE
from core.settings import Settings
from versioning.lake import Lake, MergeRequest, NotFoundError
from warehouse.audits import AuditLog
from warehouse.guard import merge_problems

PATH = "/lakefs/pre-merge"
SECRET_HEADER = "X-VoiceOps-Hook-Secret"
#: The environment variable of the lakeFS server that the action file reads the secret from
#: (lakeFS lets actions read only variables starting with ``actions.env.prefix``, by default
#: ``LAKEFSACTION_``; others evaluate to an empty string).
SECRET_ENV = "LAKEFSACTION_VOICEOPS_HOOK_SECRET"
#: Where a compose stack's lakeFS reaches the hook (``voiceops warehouse serve-hook``).
DEFAULT_HOOK_URL = f"http://voiceops-hook:8766{PATH}"
#: lakeFS aborts the merge when the hook has not answered by then (a Go duration).
ACTION_TIMEOUT = "30s"
MAX_EVENT_BYTES = 1 << 20

log = logging.getLogger(__name__)


class HookConfigError(ValueError):
    """The hook server cannot start as configured (one line, for the user)."""


@dataclass(frozen=True)
class PreMergeVerifier:
    """Answers a lakeFS pre-merge event from the audit log, without running anything."""

    lake: Lake
    audits: AuditLog
    #: The current dbt project's manifest hash ("" when unknown: every merge is refused).
    manifest_hash: Callable[[], str]

    def verdict(self, event: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """HTTP status and JSON body answering one lakeFS event."""
        problem = _malformed(event)
        if problem:
            return 400, {"ok": False, "error": problem}
        repository, destination = event["repository_id"], event["branch_id"]
        try:
            request = self.merge_request(event)
        except NotFoundError as error:
            return 412, {"ok": False, "problems": [f"cannot verify the merge: {error}"]}
        try:
            audit = self.audits.get(request.source_commit)
            problems = merge_problems(request, audit, self.manifest_hash())
        except ValueError as error:  # a misfiled or corrupt audit record: never a pass
            audit, problems = None, [str(error)]
        body = {
            "ok": not problems,
            "repository": repository,
            "destination": destination,
            "destination_head": request.destination_head,
            "source_commit": request.source_commit,
            "merge_base": request.merge_base,
            "audit": audit.summary() if audit is not None else None,
            "problems": problems,
        }
        return (412 if problems else 200), body

    def merge_request(self, event: Mapping[str, Any]) -> MergeRequest:
        """The merge lakeFS is about to make: its destination is still at the pre-merge head."""
        repository, destination = event["repository_id"], event["branch_id"]
        source = self.lake.resolve_ref(repository, event["source_ref"])
        head = self.lake.get_branch(repository, destination).commit_id
        return MergeRequest(
            repository=repository,
            source_ref=str(event.get("merge_source") or event["source_ref"]),
            source_commit=source,
            destination_branch=destination,
            destination_head=head,
            merge_base=self.lake.merge_base(repository, source, head),
            message=str(event.get("commit_message") or ""),
            metadata=dict(event.get("commit_metadata") or {}),
        )


def _malformed(event: Mapping[str, Any]) -> str | None:
    """Why ``event`` is not a lakeFS pre-merge event (None if it is one)."""
    kind = str(event.get("event_type", "")).replace("_", "-")
    if kind != "pre-merge":
        return f"event_type {event.get('event_type')!r}: this hook answers pre-merge events"
    for key in ("repository_id", "branch_id", "source_ref"):
        if not isinstance(event.get(key), str) or not event[key]:
            return f"a pre-merge event needs {key}"
    metadata = event.get("commit_metadata") or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        return "commit_metadata must map strings to strings"
    return None


def _handler(
    verifier: PreMergeVerifier, secret: str, gatekeeper: Gatekeeper | None
) -> type[BaseHTTPRequestHandler]:
    expected = secret.encode()

    def refusal(headers: Mapping[str, str]) -> tuple[int, str] | None:
        """Why the caller may not ask (status, reason), or None when it may."""
        bearer = headers.get("Authorization")
        if bearer is not None and gatekeeper is not None and gatekeeper.required:
            try:
                gatekeeper.authorize(bearer, LAKE_PRE_MERGE)
            except Unauthorized as error:
                return 401, str(error)
            except Forbidden as error:
                return 403, str(error)
            return None
        given = headers.get(SECRET_HEADER)
        if not expected:
            return 401, "missing Authorization: Bearer <API key or token>"
        if given is None:
            return 401, f"missing {SECRET_HEADER}"
        if not hmac.compare_digest(given.encode(), expected):
            return 401, f"wrong {SECRET_HEADER}"
        return None

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if urlsplit(self.path).path != PATH:
                return self._send(404, {"error": f"no such endpoint {self.path}"})
            refused = refusal(self.headers)
            if refused is not None:
                return self._send(refused[0], {"ok": False, "error": refused[1]})
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_EVENT_BYTES:
                return self._send(413, {"ok": False, "error": "event too large"})
            try:
                event = json.loads(self.rfile.read(length) or b"{}")
            except ValueError as err:
                return self._send(400, {"ok": False, "error": f"body is not JSON: {err}"})
            if not isinstance(event, dict):
                return self._send(400, {"ok": False, "error": "the event must be a JSON object"})
            try:
                status, body = verifier.verdict(event)
            except Exception as err:  # a broken verification must refuse, never pass
                log.exception("pre-merge verification failed")
                status, body = 500, {"ok": False, "error": f"verification failed: {err}"}
            self._send(status, body)

        def do_GET(self) -> None:
            if self.path == "/health":
                return self._send(200, {"ok": True})
            self._send(404, {"error": f"no such endpoint {self.path}"})

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            return

    return Handler


def require_secret(secret: str, bearer_accepted: bool = False) -> str:
    """``secret``, which must not be empty unless bearer credentials are checked instead:
    an open hook would let anyone approve merges."""
    if not secret and not bearer_accepted:
        raise HookConfigError(
            f"no hook secret: set VOICEOPS_HOOK_SECRET here and the same value as {SECRET_ENV} "
            "on the lakeFS server"
        )
    return secret


def make_server(
    verifier: PreMergeVerifier,
    secret: str,
    host: str = "127.0.0.1",
    port: int = 8766,
    gatekeeper: Gatekeeper | None = None,
) -> ThreadingHTTPServer:
    """The hook's HTTP server; refuses to exist without a secret or a required gatekeeper
    to check requests against."""
    bearer = gatekeeper is not None and gatekeeper.required
    handler = _handler(verifier, require_secret(secret, bearer), gatekeeper)
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


@contextlib.contextmanager
def running_hook_server(
    verifier: PreMergeVerifier, secret: str, port: int = 0, gatekeeper: Gatekeeper | None = None
) -> Iterator[str]:
    """The webhook on 127.0.0.1 in a thread; yields its base URL."""
    server = make_server(verifier, secret, port=port, gatekeeper=gatekeeper)
    thread = threading.Thread(target=server.serve_forever, name="pre-merge-hook", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class CurrentManifestHash:
    """The dbt project's manifest hash as the hook needs it, per request and fast.

    Each call fingerprints the project (milliseconds) and reads the cached hash; a dbt parse
    runs only when the project changed and no audit or build has recorded its hash yet (the
    server makes one call at start, off the request path, so that parse happens then).
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()

    def __call__(self) -> str:
        from warehouse.manifest import current_manifest_hash

        with self._lock:  # one dbt parse at a time
            try:
                return current_manifest_hash(self.settings)
            except (RuntimeError, OSError) as error:
                log.error("the dbt project's manifest hash is unknown: %s", error)
                return ""


def hook_verifier(settings: Settings, lake: Lake) -> PreMergeVerifier:
    """The verifier over the platform's audit log and the dbt project on disk."""
    from warehouse.audits import audit_log

    return PreMergeVerifier(lake, audit_log(settings), CurrentManifestHash(settings))


# ---- the lakeFS action file -----------------------------------------------------------------
ACTION_TEMPLATE = """\
# lakeFS action: every merge into main must publish a commit whose strict audit passed.
# lakeFS reads it from _lakefs_actions/ of the merge *source* and, before merging into main,
# POSTs its pre-merge event to the VoiceOps hook (`voiceops warehouse serve-hook`). The hook
# only verifies (no audit runs in it): the source commit has a passing strict audit of the
# current dbt project, the merge carries the publish metadata naming that commit, and main
# gains nothing the audit did not see. Any other answer than 2xx aborts the merge.
# Install and limits: lakefs/README.md. Render for another URL:
#   voiceops warehouse hook-action --url URL
name: VoiceOps publish gate
description: Merges into main publish audited commits only (verified by the VoiceOps hook).
on:
  pre-merge:
    branches:
      - main
hooks:
  - id: voiceops_publish_gate
    type: webhook
    description: Refuses a merge unless its source commit's strict audit allows it.
    properties:
      url: {url}
      timeout: {timeout}
      headers:
        {header}: "{{{{ ENV.{secret_env} }}}}"
"""


def action_yaml(url: str = DEFAULT_HOOK_URL) -> str:
    """The lakeFS action file calling the hook at ``url`` (lakeFS uses the url literally)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"invalid hook URL {url!r}: expected http(s)://host[:port]/path")
    if any(c.isspace() or ord(c) < 32 for c in url) or "{{" in url:
        raise ValueError(f"invalid hook URL {url!r}: lakeFS sends the url as written")
    return ACTION_TEMPLATE.format(
        url=json.dumps(url), timeout=ACTION_TIMEOUT, header=SECRET_HEADER, secret_env=SECRET_ENV
    )
