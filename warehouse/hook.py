"""The lakeFS pre-merge webhook: lakeFS asks, before a merge into main, whether it may go on.

lakeFS POSTs its action event (``event_type`` ``pre-merge``, ``repository_id``,
``branch_id`` = the destination, ``source_ref`` = what is merged, ``commit_id``) to
``/lakefs/pre-merge``; any non-2xx answer aborts the merge. The answer comes from the audit
of the merge's source commit: a recorded one if that commit was audited already, otherwise
the audit runs now (load + dbt build). 200 = every check passed, 412 = some failed.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from warehouse.gate import Audit

#: (repository, source ref) -> the audit of that ref's commit.
Auditor = Callable[[str, str], Audit]
PATH = "/lakefs/pre-merge"


def pre_merge_verdict(event: dict[str, Any], audit_for: Auditor) -> tuple[int, dict[str, Any]]:
    """HTTP status and JSON body answering one lakeFS pre-merge event."""
    kind = str(event.get("event_type", "")).replace("_", "-")
    if kind != "pre-merge":
        return 400, {"error": f"event_type {event.get('event_type')!r}: expected pre-merge"}
    repository = event.get("repository_id")
    source = event.get("source_ref") or event.get("commit_id")
    if not repository or not source:
        return 400, {"error": "event needs repository_id and source_ref (or commit_id)"}
    audit = audit_for(repository, source)
    body = {
        "ok": audit.ok,
        "repository": repository,
        "source_ref": source,
        "destination": event.get("branch_id"),
        "commit_id": audit.commit_id,
        "audit_schema": audit.schema,
        "summary": audit.summary(),
        "failed_checks": [{"name": c.name, "status": c.status} for c in audit.failed],
    }
    return (200 if audit.ok else 412), body


def _handler(audit_for: Auditor) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path.split("?")[0] != PATH:
                return self._send(404, {"error": f"no such endpoint {self.path}"})
            try:
                length = int(self.headers.get("Content-Length") or 0)
                event = json.loads(self.rfile.read(length) or b"{}")
            except (ValueError, json.JSONDecodeError) as err:
                return self._send(400, {"error": f"body is not JSON: {err}"})
            try:
                status, body = pre_merge_verdict(event, audit_for)
            except Exception as err:  # the merge must not pass because the audit broke
                status, body = 500, {"ok": False, "error": f"audit failed to run: {err}"}
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


def make_server(
    audit_for: Auditor, host: str = "127.0.0.1", port: int = 8766
) -> ThreadingHTTPServer:
    return ThreadingHTTPServer((host, port), _handler(audit_for))


@contextlib.contextmanager
def running_hook_server(audit_for: Auditor, port: int = 0) -> Iterator[str]:
    """The webhook on 127.0.0.1 in a thread; yields its base URL."""
    server = make_server(audit_for, port=port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
