"""A fake Airbyte server: the subset of the public and config APIs ``dagster-airbyte`` calls.

Public API (under ``/api/public/v1``): ``POST /applications/token``, ``GET /workspaces/{id}``,
``GET /connections`` (paginated with ``limit``/``offset`` and a ``next`` URL),
``GET /destinations/{id}``, ``GET /jobs`` (paginated, filtered by ``connectionId``),
``POST /jobs``, ``GET /jobs/{id}``, ``DELETE /jobs/{id}``.
Config API (under ``/api/v1``): ``POST /connections/get`` (with the ``syncCatalog``) and
``POST /jobs/get`` (job info with per-stream stats of the last attempt).

What VoiceOps's lake landing adds (``ingestion/airbyte/server_api.py``): ``GET/POST
/destinations``, ``PATCH /destinations/{id}`` (configuration keys merged), ``GET /sources``,
``GET/PATCH/DELETE /connections/{id}``, ``POST /connections``, and under the config API
``POST /state/get`` and ``POST /state/create_or_update_safe``.

The model is in memory: a workspace, one Postgres destination, two sources and two
connections, ``voiceops-crm`` (streams ``customers``, ``tickets``) and
``voiceops-call-exports`` (stream ``calls``). A sync job is ``pending`` when created,
``running`` after the first poll and finishes (``succeeded``, or ``failed`` if its connection
was told to fail) at poll ``polls_to_finish``. When it finishes, a connection whose
destination is S3 and whose source has a ``reader`` really syncs: the reader gives each
selected stream's records (from the stream's state when the stream is incremental) and they
are written the way Airbyte's S3 destination writes them (``fake_s3_destination``) to the
destination's ``s3_endpoint``; a reader or upload error fails the job (streams written
before it stay written, as in a real failed sync), and the per-stream state moves only on
success. With ``client_id`` set, every call but the token one needs the bearer token the
token endpoint hands out (401 otherwise). Every request is logged in ``requests``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.fakes.background import BackgroundHTTPServer
from tests.fakes.fake_s3_destination import write_stream

PUBLIC_PREFIX = "/api/public/v1"
CONFIG_PREFIX = "/api/v1"
FAKE_CLIENT_ID = "voiceops-fake-client"
FAKE_CLIENT_SECRET = "voiceops-fake-secret"  # test fixture, not a credential
FAKE_TIMESTAMP = "2024-01-01T00:00:00Z"  # fixed: the fake never reports real times
MASKED = "**********"  # how Airbyte answers secret configuration values
SECRET_KEYS = frozenset({"access_key_id", "secret_access_key", "password"})

#: ``reader(stream name, stream state) -> (records, new stream state)``: a fake source.
StreamReader = Callable[[str, Any], tuple[Iterable[dict[str, Any]], Any]]


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

    def json_properties(self) -> dict[str, dict[str, str]]:
        return {k: {"type": t} for k, t in self.properties.items()}

    def catalog_entry(self, sync_mode: str = "full_refresh_overwrite") -> dict[str, Any]:
        """The ``syncCatalog.streams[]`` item of the config API."""
        read_mode = "full_refresh" if sync_mode.startswith("full_refresh") else "incremental"
        write_mode = sync_mode[len(read_mode) + 1 :]  # e.g. incremental_append -> append
        return {
            "stream": {
                "name": self.name,
                "jsonSchema": {"type": "object", "properties": self.json_properties()},
                "supportedSyncModes": ["full_refresh", "incremental"],
            },
            "config": {
                "selected": self.selected,
                "syncMode": read_mode,
                "destinationSyncMode": write_mode,
                "aliasName": self.name,
            },
        }


@dataclass
class FakeSource:
    """A source of the workspace: its catalog, and optionally what a sync reads."""

    source_id: str
    name: str
    streams: list[FakeStream]
    reader: StreamReader | None = None


@dataclass
class FakeDestination:
    """A destination of the workspace (``configuration`` unmasked)."""

    destination_id: str
    name: str
    destination_type: str
    configuration: dict[str, Any]


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
    namespace_definition: str = "destination"
    namespace_format: str = ""
    sync_modes: dict[str, str] = field(default_factory=dict)  # stream -> public API sync mode
    state: dict[str, Any] = field(default_factory=dict)  # stream -> stream state
    schedule: dict[str, Any] = field(default_factory=lambda: {"scheduleType": "manual"})

    @property
    def selected_streams(self) -> list[FakeStream]:
        return [s for s in self.streams if s.selected]

    def sync_mode(self, stream: str) -> str:
        return self.sync_modes.get(stream, "full_refresh_overwrite")


@dataclass
class FakeJob:
    """A sync job and its progress (counted in polls)."""

    job_id: int
    connection_id: str
    will_fail: bool
    status: str = "pending"
    polls: int = 0
    records: dict[str, int] = field(default_factory=dict)  # stream -> records written
    failure: str = ""
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

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
        self.destination_id = str(uuid.uuid4())  # the Postgres destination of the defaults
        self.destinations: dict[str, FakeDestination] = {
            self.destination_id: FakeDestination(
                self.destination_id,
                "voiceops-warehouse",
                "postgres",
                {"host": "warehouse", "database": "voiceops", "schema": "raw"},
            )
        }
        self.sources: dict[str, FakeSource] = {}
        self.connections: dict[str, FakeConnection] = {}
        self.jobs: dict[int, FakeJob] = {}
        self.requests: list[RecordedRequest] = []
        self.tokens: set[str] = set()
        self._job_ids = itertools.count(1)
        self._lock = threading.RLock()
        self._http: BackgroundHTTPServer | None = None
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

    def add_source(
        self, name: str, streams: list[FakeStream], reader: StreamReader | None = None
    ) -> FakeSource:
        """Add a source (its catalog, and what a sync of it reads)."""
        with self._lock:
            source = FakeSource(str(uuid.uuid4()), name, streams, reader)
            self.sources[source.source_id] = source
            return source

    def source(self, name: str) -> FakeSource:
        """The source named ``name``."""
        with self._lock:
            for source in self.sources.values():
                if source.name == name:
                    return source
        raise KeyError(name)

    def destination(self, name: str) -> FakeDestination:
        """The destination named ``name``."""
        with self._lock:
            for destination in self.destinations.values():
                if destination.name == name:
                    return destination
        raise KeyError(name)

    def add_connection(
        self, name: str, streams: list[FakeStream], *, prefix: str = ""
    ) -> FakeConnection:
        """Add a connection to the workspace (to the shared destination), from a new source
        of the same name and streams."""
        with self._lock:
            source = self.add_source(name, streams)
            connection = FakeConnection(
                connection_id=str(uuid.uuid4()),
                name=name,
                source_id=source.source_id,
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
        assert self._http is not None, "the fake is not running"
        return self._http.url

    @property
    def rest_url(self) -> str:
        """Public API base URL (``AIRBYTE_REST_API_BASE_URL``)."""
        return self.base_url + PUBLIC_PREFIX

    @property
    def config_url(self) -> str:
        """Config API base URL (``AIRBYTE_CONFIGURATION_API_BASE_URL``)."""
        return self.base_url + CONFIG_PREFIX

    def start(self) -> None:
        self._http = BackgroundHTTPServer(_make_handler(self), "fake-airbyte")
        self._http.start()

    def stop(self) -> None:
        if self._http is not None:
            self._http.stop()

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
                    answer = self._public(method, path, query, body)
                    return (204 if answer is None else 200), answer
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
        body = body if isinstance(body, dict) else {}
        if segments[0] == "destinations":
            return self._destinations(method, segments[1:], query, body)
        if segments[0] == "sources" and (method, len(segments)) == ("GET", 1):
            self._check_workspace_filter(query)
            items = [self._source_response(x) for x in self.sources.values()]
            return self._page("/sources", items, query)
        if segments[0] == "connections" and (len(segments) == 2 or method == "POST"):
            return self._connections(method, segments[1:], body)
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
        if (method, path) == ("POST", "/state/get"):
            return self._state(self._connection(str(body.get("connectionId"))))
        if (method, path) == ("POST", "/state/create_or_update_safe"):
            return self._set_state(body)
        raise HTTPError(404, f"not served by the fake: {method} {path}")

    # -- destinations, sources, connections, state -----------------------------------------

    def _destinations(
        self, method: str, ids: list[str], query: dict[str, str], body: dict[str, Any]
    ) -> Any:
        if not ids and method == "GET":
            self._check_workspace_filter(query)
            items = [self._destination_response(d) for d in self.destinations.values()]
            return self._page("/destinations", items, query)
        if not ids and method == "POST":
            if body.get("workspaceId") != self.workspace_id:
                raise HTTPError(404, f"workspace {body.get('workspaceId')} not found")
            configuration = dict(body.get("configuration") or {})
            kind = configuration.pop("destinationType", None)
            if not kind or not body.get("name"):
                raise HTTPError(422, "a destination needs a name and configuration.destinationType")
            destination = FakeDestination(str(uuid.uuid4()), body["name"], kind, configuration)
            self.destinations[destination.destination_id] = destination
            return self._destination_response(destination)
        if len(ids) != 1 or ids[0] not in self.destinations:
            raise HTTPError(404, f"destination {'/'.join(ids)} not found")
        destination = self.destinations[ids[0]]
        if method == "GET":
            return self._destination_response(destination)
        if method == "PATCH":
            configuration = dict(body.get("configuration") or {})
            kind = configuration.pop("destinationType", destination.destination_type)
            if kind != destination.destination_type:
                raise HTTPError(422, "a destination's type cannot change")
            destination.configuration.update(configuration)  # PATCH merges the keys given
            destination.name = body.get("name") or destination.name
            return self._destination_response(destination)
        raise HTTPError(405, f"{method} on a destination")

    def _destination_response(self, destination: FakeDestination) -> dict[str, Any]:
        """Public API ``DestinationResponse`` (secrets masked, as Airbyte answers)."""
        return {
            "destinationId": destination.destination_id,
            "name": destination.name,
            "destinationType": destination.destination_type,
            "workspaceId": self.workspace_id,
            "configuration": {
                k: MASKED if k in SECRET_KEYS else v for k, v in destination.configuration.items()
            },
        }

    def _source_response(self, source: FakeSource) -> dict[str, Any]:
        return {
            "sourceId": source.source_id,
            "name": source.name,
            "sourceType": "custom",
            "workspaceId": self.workspace_id,
            "configuration": {},
        }

    def _connection(self, connection_id: str) -> FakeConnection:
        connection = self.connections.get(connection_id)
        if connection is None:
            raise HTTPError(404, f"connection {connection_id} not found")
        return connection

    def _connections(self, method: str, ids: list[str], body: dict[str, Any]) -> Any:
        if method == "POST" and not ids:
            return self._connection_response(self._create_connection(body))
        connection = self._connection(ids[0])
        if method == "GET":
            return self._connection_response(connection)
        if method == "PATCH":
            self._configure(connection, body)
            return self._connection_response(connection)
        if method == "DELETE":
            del self.connections[connection.connection_id]
            return None
        raise HTTPError(405, f"{method} on a connection")

    def _create_connection(self, body: dict[str, Any]) -> FakeConnection:
        source = self.sources.get(str(body.get("sourceId")))
        if source is None:
            raise HTTPError(404, f"source {body.get('sourceId')} not found")
        if str(body.get("destinationId")) not in self.destinations:
            raise HTTPError(404, f"destination {body.get('destinationId')} not found")
        connection = FakeConnection(
            connection_id=str(uuid.uuid4()),
            name=body.get("name") or f"{source.name} connection",
            source_id=source.source_id,
            destination_id=str(body["destinationId"]),
            streams=[FakeStream(s.name, s.records, dict(s.properties)) for s in source.streams],
        )
        self._configure(connection, body)
        self.connections[connection.connection_id] = connection
        return connection

    def _configure(self, connection: FakeConnection, body: dict[str, Any]) -> None:
        """Apply the fields of a create/PATCH body (absent fields stay as they are)."""
        for key, attribute in (
            ("namespaceDefinition", "namespace_definition"),
            ("namespaceFormat", "namespace_format"),
            ("prefix", "prefix"),
            ("name", "name"),
            ("schedule", "schedule"),
        ):
            if body.get(key) is not None:
                setattr(connection, attribute, body[key])
        streams = (body.get("configurations") or {}).get("streams")
        if streams is None:
            return
        wanted = {entry["name"]: entry for entry in streams}
        unknown = set(wanted) - {s.name for s in connection.streams}
        if unknown:
            raise HTTPError(422, f"the source has no stream(s) {sorted(unknown)}")
        for stream in connection.streams:
            stream.selected = stream.name in wanted
            if stream.selected:
                connection.sync_modes[stream.name] = wanted[stream.name].get(
                    "syncMode", "full_refresh_overwrite"
                )

    def _connection_response(self, c: FakeConnection) -> dict[str, Any]:
        """Public API ``ConnectionResponse``."""
        return self._connection_summary(c) | {
            "namespaceDefinition": c.namespace_definition,
            "namespaceFormat": c.namespace_format,
            "schedule": c.schedule,
            "configurations": {
                "streams": [
                    {"name": s.name, "syncMode": c.sync_mode(s.name)} for s in c.selected_streams
                ]
            },
        }

    def _state(self, connection: FakeConnection) -> dict[str, Any]:
        """Config API ``ConnectionState`` (per-stream)."""
        if not connection.state:
            return {"stateType": "not_set", "connectionId": connection.connection_id}
        return {
            "stateType": "stream",
            "connectionId": connection.connection_id,
            "streamState": [
                {"streamDescriptor": {"name": name}, "streamState": state}
                for name, state in connection.state.items()
            ],
        }

    def _set_state(self, body: dict[str, Any]) -> dict[str, Any]:
        connection = self._connection(str(body.get("connectionId")))
        if any(
            j.connection_id == connection.connection_id and not j.finished
            for j in self.jobs.values()
        ):
            raise HTTPError(409, "State cannot be updated while a sync is running")
        state = body.get("connectionState") or {}
        if state.get("stateType") not in ("stream", "not_set"):
            raise HTTPError(
                422, f"the fake keeps per-stream state only, not {state.get('stateType')}"
            )
        connection.state = {
            entry["streamDescriptor"]["name"]: entry.get("streamState")
            for entry in state.get("streamState") or []
        }
        return self._state(connection)

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
            "syncCatalog": {"streams": [s.catalog_entry(c.sync_mode(s.name)) for s in c.streams]},
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
        if job.polls < self.polls_to_finish:
            job.status = "running"
        elif job.will_fail:
            job.status = "failed"
        else:
            job.status = "succeeded" if self._sync(job) else "failed"

    def _sync(self, job: FakeJob) -> bool:
        """Read and write the streams of an S3-destined connection whose source has a
        reader (others only pretend); False when the sync failed."""
        connection = self.connections[job.connection_id]
        source = self.sources.get(connection.source_id)
        destination = self.destinations[connection.destination_id]
        if source is None or source.reader is None or destination.destination_type != "s3":
            return True
        namespace = (
            connection.namespace_format
            if connection.namespace_definition == "custom_format"
            else ""
        )
        new_states: dict[str, Any] = {}
        try:
            for stream in connection.selected_streams:
                incremental = connection.sync_mode(stream.name).startswith("incremental")
                records, state = source.reader(
                    stream.name, connection.state.get(stream.name) if incremental else None
                )
                records = list(records)
                write_stream(
                    destination.configuration,
                    namespace=namespace,
                    stream=connection.prefix + stream.name,
                    records=records,
                    properties=stream.json_properties(),
                    sync_id=job.job_id,
                    sync_time=job.started,
                )
                job.records[stream.name] = len(records)
                if incremental and state is not None:
                    new_states[stream.name] = state
        except Exception as exc:  # what the sync's failure summary would say
            job.failure = f"{type(exc).__name__}: {exc}"
            return False
        connection.state.update(new_states)
        return True

    def _records(self, job: FakeJob, stream: FakeStream) -> int:
        if job.status != "succeeded":
            return 0
        return job.records.get(stream.name, stream.records)

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
                        **(
                            {"failureSummary": {"failures": [{"externalMessage": job.failure}]}}
                            if job.failure
                            else {}
                        ),
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
            payload = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

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
