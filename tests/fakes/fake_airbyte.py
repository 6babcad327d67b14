"""A fake Airbyte server: the subset of the public and config APIs ``dagster-airbyte`` calls.

Public API (under ``/api/public/v1``): ``POST /applications/token``, ``GET /workspaces/{id}``,
``GET /connections`` (paginated with ``limit``/``offset`` and a ``next`` URL),
``GET /destinations/{id}``, ``GET /jobs`` (paginated, filtered by ``connectionId``),
``POST /jobs``, ``GET /jobs/{id}``, ``DELETE /jobs/{id}``.
Config API (under ``/api/v1``): ``POST /connections/get`` (with the ``syncCatalog``) and
``POST /jobs/get`` (job info with per-stream stats of the last attempt).

The model is in memory: a workspace, one Postgres destination, and two connections,
``voiceops-crm`` (streams ``customers``, ``tickets``) and ``voiceops-call-exports``
(stream ``calls``). A sync job is ``pending`` when created, ``running`` after the first poll
and finishes (``succeeded``, or ``failed`` if its connection was told to fail) at poll
``polls_to_finish``. With ``client_id`` set, every call but the token one needs the bearer
token the token endpoint hands out (401 otherwise). Every request is logged in ``requests``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

PUBLIC_PREFIX = "/api/public/v1"
CONFIG_PREFIX = "/api/v1"
FAKE_CLIENT_ID = "voiceops-fake-client"
FAKE_CLIENT_SECRET = "voiceops-fake-secret"  # test fixture, not a credential
FAKE_TIMESTAMP = "2024-01-01T00:00:00Z"  # fixed: the fake never reports real times


class HTTPError(Exception):
    """An error answer with a status code and an Airbyte-style body."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class FakeStream:
    """A stream of a connection and how many records a sync of it emits."""

    name: str
    records: int
    properties: dict[str, str] = field(default_factory=dict)
    selected: bool = True

    def catalog_entry(self) -> dict[str, Any]:
        """The ``syncCatalog.streams[]`` item of the config API."""
        return {
            "stream": {
                "name": self.name,
                "jsonSchema": {
                    "type": "object",
                    "properties": {k: {"type": t} for k, t in self.properties.items()},
                },
                "supportedSyncModes": ["full_refresh", "incremental"],
            },
            "config": {
                "selected": self.selected,
                "syncMode": "full_refresh",
                "destinationSyncMode": "overwrite",
                "aliasName": self.name,
            },
        }


@dataclass
class FakeConnection:
    """An Airbyte connection; ``fail_syncs`` makes its sync jobs end ``failed``."""

    connection_id: str
    name: str
    source_id: str
    destination_id: str
    streams: list[FakeStream]
    prefix: str = ""
    fail_syncs: bool = False

    @property
    def selected_streams(self) -> list[FakeStream]:
        return [s for s in self.streams if s.selected]


@dataclass
class FakeJob:
    """A sync job and its progress (counted in polls)."""

    job_id: int
    connection_id: str
    will_fail: bool
    status: str = "pending"
    polls: int = 0

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received."""

    method: str
    api: str  # "public", "config" or "unknown"
    path: str  # relative to the API prefix, without the query string
    query: dict[str, str]
    body: Any
    authorization: str | None

    @property
    def call(self) -> str:
        """``"METHOD path"`` with ids kept, e.g. ``"GET /jobs/1"``."""
        return f"{self.method} {self.path}"


class FakeAirbyte:
    """In-memory Airbyte workspace served over HTTP (see the module docstring)."""

    def __init__(
        self,
        *,
        client_id: str | None = FAKE_CLIENT_ID,
        client_secret: str | None = FAKE_CLIENT_SECRET,
        polls_to_finish: int = 2,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.polls_to_finish = polls_to_finish
        self.workspace_id = str(uuid.uuid4())
        self.destination_id = str(uuid.uuid4())
        self.connections: dict[str, FakeConnection] = {}
        self.jobs: dict[int, FakeJob] = {}
        self.requests: list[RecordedRequest] = []
        self.tokens: set[str] = set()
        self._job_ids = itertools.count(1)
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.add_connection(
            "voiceops-crm",
            [
                FakeStream(
                    "customers",
                    records=120,
                    properties={"customer_id": "string", "segment": "string"},
                ),
                FakeStream(
                    "tickets",
                    records=345,
                    properties={"ticket_id": "string", "customer_id": "string"},
                ),
            ],
        )
        self.add_connection(
            "voiceops-call-exports",
            [
                FakeStream(
                    "calls",
                    records=42,
                    properties={"call_id": "string", "duration_s": "number"},
                )
            ],
        )

    # -- model -----------------------------------------------------------------------------

    def add_connection(
        self, name: str, streams: list[FakeStream], *, prefix: str = ""
    ) -> FakeConnection:
        """Add a connection to the workspace (to the shared destination)."""
        with self._lock:
            connection = FakeConnection(
                connection_id=str(uuid.uuid4()),
                name=name,
                source_id=str(uuid.uuid4()),
                destination_id=self.destination_id,
                streams=streams,
                prefix=prefix,
            )
            self.connections[connection.connection_id] = connection
            return connection

    def connection(self, name: str) -> FakeConnection:
        """The connection named ``name``."""
        with self._lock:
            for connection in self.connections.values():
                if connection.name == name:
                    return connection
        raise KeyError(name)

    def fail_syncs(self, connection_name: str, fail: bool = True) -> None:
        """Make the sync jobs of a connection fail (or succeed again)."""
        self.connection(connection_name).fail_syncs = fail

    def jobs_for(self, connection_name: str) -> list[FakeJob]:
        """The jobs started for a connection, oldest first."""
        connection_id = self.connection(connection_name).connection_id
        with self._lock:
            return [j for j in self.jobs.values() if j.connection_id == connection_id]

    @property
    def calls(self) -> list[str]:
        """The requests received so far, as ``"METHOD path"`` strings."""
        with self._lock:
            return [r.call for r in self.requests]

    # -- server ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the fake is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def rest_url(self) -> str:
        """Public API base URL (``AIRBYTE_REST_API_BASE_URL``)."""
        return self.base_url + PUBLIC_PREFIX

    @property
    def config_url(self) -> str:
        """Config API base URL (``AIRBYTE_CONFIGURATION_API_BASE_URL``)."""
        return self.base_url + CONFIG_PREFIX

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-airbyte", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- request handling ------------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, body: Any, authorization: str | None
    ) -> tuple[int, Any]:
        """Answer one request: ``(status, JSON body)``."""
        parts = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path = parts.path.rstrip("/")
        api = "unknown"
        for name, prefix in (("public", PUBLIC_PREFIX), ("config", CONFIG_PREFIX)):
            if path.startswith(prefix + "/"):
                api, path = name, path[len(prefix) :]
                break
        with self._lock:
            self.requests.append(RecordedRequest(method, api, path, query, body, authorization))
        try:
            if api == "public" and (method, path) == ("POST", "/applications/token"):
                return 200, self._token(body)
            self._authorize(authorization)
            with self._lock:
                if api == "public":
                    return 200, self._public(method, path, query, body)
                if api == "config":
                    return 200, self._config(method, path, body)
            raise HTTPError(404, f"no such API: {raw_path}")
        except HTTPError as exc:
            return exc.status, {"status": exc.status, "message": exc.message}

    def _token(self, body: Any) -> dict[str, Any]:
        body = body if isinstance(body, dict) else {}
        if self.client_id is None:
            raise HTTPError(404, "this fake has no applications")
        if (body.get("client_id"), body.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            raise HTTPError(401, "invalid client credentials")
        token = uuid.uuid4().hex
        with self._lock:
            self.tokens.add(token)
        return {"access_token": token, "token_type": "Bearer", "expires_in": 180}

    def _authorize(self, authorization: str | None) -> None:
        if self.client_id is None:
            return
        scheme, _, token = (authorization or "").partition(" ")
        if scheme != "Bearer" or token not in self.tokens:
            raise HTTPError(401, "Unauthorized")

    def _public(self, method: str, path: str, query: dict[str, str], body: Any) -> Any:
        segments = path.strip("/").split("/")
        if method == "GET" and segments[0] == "workspaces" and len(segments) == 2:
            if segments[1] != self.workspace_id:
                raise HTTPError(404, f"workspace {segments[1]} not found")
            return {
                "workspaceId": self.workspace_id,
                "name": "voiceops",
                "dataResidency": "auto",
            }
        if method == "GET" and path == "/connections":
            self._check_workspace_filter(query)
            items = [self._connection_summary(c) for c in self.connections.values()]
            return self._page("/connections", items, query)
        if method == "GET" and segments[0] == "destinations" and len(segments) == 2:
            if segments[1] != self.destination_id:
                raise HTTPError(404, f"destination {segments[1]} not found")
            return self._destination()
        if path == "/jobs" and method == "GET":
            self._check_workspace_filter(query)
            jobs = [
                j
                for j in self.jobs.values()
                if query.get("connectionId") in (None, j.connection_id)
            ]
            return self._page("/jobs", [self._job_response(j) for j in jobs], query)
        if path == "/jobs" and method == "POST":
            return self._start_job(body)
        if segments[0] == "jobs" and len(segments) == 2:
            job = self._job(segments[1])
            if method == "GET":
                self._advance(job)
                return self._job_response(job)
            if method == "DELETE":
                if not job.finished:
                    job.status = "cancelled"
                return self._job_response(job)
        raise HTTPError(404, f"not served by the fake: {method} {path}")

    def _config(self, method: str, path: str, body: Any) -> Any:
        body = body if isinstance(body, dict) else {}
        if (method, path) == ("POST", "/connections/get"):
            connection = self.connections.get(str(body.get("connectionId")))
            if connection is None:
                raise HTTPError(404, f"connection {body.get('connectionId')} not found")
            return self._connection_details(connection)
        if (method, path) == ("POST", "/jobs/get"):
            job = self._job(str(body.get("id")))
            return self._job_info(job)
        raise HTTPError(404, f"not served by the fake: {method} {path}")

    def _check_workspace_filter(self, query: dict[str, str]) -> None:
        ids = query.get("workspaceIds")
        if ids is not None and self.workspace_id not in ids.split(","):
            raise HTTPError(404, f"workspace {ids} not found")

    def _page(self, path: str, items: list[Any], query: dict[str, str]) -> dict[str, Any]:
        limit = int(query.get("limit", 20))
        offset = int(query.get("offset", 0))
        page = items[offset : offset + limit]
        answer: dict[str, Any] = {"data": page, "previous": "", "next": ""}
        if offset + limit < len(items):
            next_query = {**query, "limit": str(limit), "offset": str(offset + limit)}
            answer["next"] = f"{self.rest_url}{path}?{urlencode(next_query)}"
        return answer

    def _connection_summary(self, c: FakeConnection) -> dict[str, Any]:
        return {
            "connectionId": c.connection_id,
            "name": c.name,
            "sourceId": c.source_id,
            "destinationId": c.destination_id,
            "workspaceId": self.workspace_id,
            "status": "active",
            "prefix": c.prefix,
        }

    def _connection_details(self, c: FakeConnection) -> dict[str, Any]:
        return {
            "connectionId": c.connection_id,
            "name": c.name,
            "namespaceDefinition": "destination",
            "prefix": c.prefix,
            "sourceId": c.source_id,
            "destinationId": c.destination_id,
            "status": "active",
            "syncCatalog": {"streams": [s.catalog_entry() for s in c.streams]},
        }

    def _destination(self) -> dict[str, Any]:
        return {
            "destinationId": self.destination_id,
            "name": "voiceops-warehouse",
            "destinationType": "postgres",
            "workspaceId": self.workspace_id,
            "configuration": {"host": "warehouse", "database": "voiceops", "schema": "raw"},
        }

    def _start_job(self, body: Any) -> dict[str, Any]:
        body = body if isinstance(body, dict) else {}
        if body.get("jobType") != "sync":
            raise HTTPError(422, f"unsupported jobType {body.get('jobType')!r}")
        connection = self.connections.get(str(body.get("connectionId")))
        if connection is None:
            raise HTTPError(404, f"connection {body.get('connectionId')} not found")
        job = FakeJob(next(self._job_ids), connection.connection_id, connection.fail_syncs)
        self.jobs[job.job_id] = job
        return self._job_response(job)

    def _job(self, raw_id: str) -> FakeJob:
        try:
            return self.jobs[int(raw_id)]
        except (KeyError, ValueError):
            raise HTTPError(404, f"job {raw_id} not found") from None

    def _advance(self, job: FakeJob) -> None:
        """One poll: pending → running → succeeded/failed at ``polls_to_finish``."""
        if job.finished:
            return
        job.polls += 1
        if job.polls >= self.polls_to_finish:
            job.status = "failed" if job.will_fail else "succeeded"
        else:
            job.status = "running"

    def _records(self, job: FakeJob, stream: FakeStream) -> int:
        return stream.records if job.status == "succeeded" else 0

    def _job_response(self, job: FakeJob) -> dict[str, Any]:
        """Public API ``JobResponse``."""
        streams = self.connections[job.connection_id].selected_streams
        rows = sum(self._records(job, s) for s in streams)
        return {
            "jobId": job.job_id,
            "status": job.status,
            "jobType": "sync",
            "connectionId": job.connection_id,
            "startTime": FAKE_TIMESTAMP,
            "lastUpdatedAt": FAKE_TIMESTAMP,
            "duration": "PT1S",
            "rowsSynced": rows,
            "bytesSynced": rows * 100,
        }

    def _job_info(self, job: FakeJob) -> dict[str, Any]:
        """Config API ``JobInfoRead`` with one attempt and its per-stream stats."""
        streams = self.connections[job.connection_id].selected_streams
        stream_stats = [
            {
                "streamName": s.name,
                "stats": {
                    "recordsEmitted": self._records(job, s),
                    "recordsCommitted": self._records(job, s),
                    "bytesEmitted": self._records(job, s) * 100,
                },
            }
            for s in streams
        ]
        total = sum(self._records(job, s) for s in streams)
        return {
            "job": {
                "id": job.job_id,
                "configType": "sync",
                "configId": job.connection_id,
                "status": job.status,
            },
            "attempts": [
                {
                    "attempt": {
                        "id": 0,
                        "status": job.status,
                        "recordsSynced": total,
                        "bytesSynced": total * 100,
                        "totalStats": {"recordsEmitted": total, "recordsCommitted": total},
                        "streamStats": stream_stats,
                    },
                    "logs": {"logLines": []},
                }
            ],
        }


def _make_handler(fake: FakeAirbyte) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            status, answer = fake.handle(
                self.command, self.path, body, self.headers.get("Authorization")
            )
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextlib.contextmanager
def running_fake_airbyte(**options: Any) -> Iterator[FakeAirbyte]:
    """A started :class:`FakeAirbyte` on 127.0.0.1 (random port), stopped on exit."""
    fake = FakeAirbyte(**options)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
