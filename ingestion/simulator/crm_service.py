"""The CRM's REST API: a small read-only JSON service over the CRM SQLite database.

Endpoints (all ``GET``, JSON responses)::

    /health                  {"status": "ok", "database": true|false}
    /api/v1/customers        {"data": [...], "next_page": "<token>"|null}
    /api/v1/tickets          same shape

Query parameters of the list endpoints:

* ``updated_since`` — ISO 8601 timestamp; returns records with ``updated_at >= updated_since``
  (**inclusive**, the usual low-code cursor semantics: a record exactly at the previous cursor
  value is sent again, downstream deduplicates by primary key). A timestamp without a timezone
  is taken as UTC. Omitted: all records.
* ``page_size`` — 1..1000, default 100.
* ``page_token`` — the ``next_page`` of the previous page (opaque keyset token; stable even
  when records are updated between pages). Omitted: the first page.

Records are ordered by (``updated_at``, primary key). ``next_page`` is ``null`` on the last
page. Bad parameters answer 400 with ``{"error": ..., "parameter": <name>}``; a missing or
not-yet-created database answers 503.

Run it: ``python -m ingestion.simulator.crm_service [--db PATH] [--port 8765]``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import json
import logging
import signal
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ingestion.simulator.layout import CUSTOMER_FIELDS, TICKET_FIELDS

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
API_PREFIX = "/api/v1/"


@dataclass(frozen=True)
class Table:
    """A CRM table served as a list endpoint."""

    name: str
    key: str
    fields: tuple[str, ...]


TABLES = {
    "customers": Table("customers", "customer_id", CUSTOMER_FIELDS),
    "tickets": Table("tickets", "ticket_id", TICKET_FIELDS),
}


class BadParameter(ValueError):
    """A query parameter the API cannot accept (answered with 400)."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class Unavailable(RuntimeError):
    """The CRM database is not there (yet) — answered with 503."""


def parse_updated_since(value: str) -> str:
    """Normalize an ISO timestamp to the DB's text form (UTC, ``+00:00``), comparable as text."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise BadParameter("updated_since", f"not an ISO 8601 timestamp: {value!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def parse_page_size(value: str) -> int:
    try:
        size = int(value)
    except ValueError as exc:
        raise BadParameter("page_size", f"not an integer: {value!r}") from exc
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadParameter("page_size", f"must be between 1 and {MAX_PAGE_SIZE}, got {size}")
    return size


def encode_token(updated_at: str, key: str) -> str:
    raw = json.dumps([updated_at, key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        updated_at, key = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise BadParameter("page_token", "not a token returned as next_page") from exc
    if not isinstance(updated_at, str) or not isinstance(key, str):
        raise BadParameter("page_token", "not a token returned as next_page")
    return updated_at, key


def single(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise BadParameter(name, "given more than once")
    return values[0]


def list_page(db_path: Path, table: Table, params: dict[str, list[str]]) -> dict[str, Any]:
    """One page of ``table`` for the query ``params`` (see the module docstring)."""
    unknown = sorted(set(params) - {"updated_since", "page_size", "page_token"})
    if unknown:
        raise BadParameter(unknown[0], "unknown parameter")
    since = single(params, "updated_since")
    size_text = single(params, "page_size")
    token = single(params, "page_token")
    size = parse_page_size(size_text) if size_text is not None else DEFAULT_PAGE_SIZE

    where, args = [], []
    if since is not None:
        where.append("updated_at >= ?")
        args.append(parse_updated_since(since))
    if token is not None:
        where.append(f"(updated_at, {table.key}) > (?, ?)")
        args.extend(decode_token(token))
    sql = (
        f"SELECT {', '.join(table.fields)} FROM {table.name}"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + f" ORDER BY updated_at, {table.key} LIMIT ?"
    )
    rows = query(db_path, sql, [*args, size + 1])
    data = [dict(row) for row in rows[:size]]
    next_page = None
    if len(rows) > size:
        last = data[-1]
        next_page = encode_token(last["updated_at"], last[table.key])
    return {"data": data, "next_page": next_page}


def query(db_path: Path, sql: str, args: list[Any]) -> list[sqlite3.Row]:
    if not db_path.is_file():
        raise Unavailable(f"CRM database not found: {db_path}")
    try:
        uri = f"{db_path.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as con:
            con.row_factory = sqlite3.Row
            return con.execute(sql, args).fetchall()
    except sqlite3.OperationalError as exc:  # e.g. the tables are not created yet
        raise Unavailable(f"CRM database not ready: {exc}") from exc


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler that answers JSON (the simulator's CRM and bank APIs); its access
    log goes to its module's logger at debug level, prefixed with ``api_name``."""

    api_name = "api"

    def reply(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        logging.getLogger(type(self).__module__).debug(
            f"{self.api_name} %s " + format, self.address_string(), *args
        )


def make_handler(db_path: Path) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to ``db_path``."""

    class CrmHandler(JsonHandler):
        server_version = "VoiceOpsCRM/1.0"
        api_name = "crm-api"

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            params = parse_qs(url.query, keep_blank_values=True)
            try:
                if url.path == "/health":
                    self.reply(HTTPStatus.OK, {"status": "ok", "database": db_path.is_file()})
                elif url.path.startswith(API_PREFIX) and url.path[len(API_PREFIX) :] in TABLES:
                    table = TABLES[url.path[len(API_PREFIX) :]]
                    self.reply(HTTPStatus.OK, list_page(db_path, table, params))
                else:
                    self.reply(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: {url.path}"})
            except BadParameter as exc:
                self.reply(HTTPStatus.BAD_REQUEST, {"error": str(exc), "parameter": exc.parameter})
            except Unavailable as exc:
                self.reply(HTTPStatus.SERVICE_UNAVAILABLE, {"error": str(exc)})

    return CrmHandler


def make_server(db_path: Path, host: str = "127.0.0.1", port: int = 8765) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), make_handler(Path(db_path)))
    server.daemon_threads = True
    return server


def serve(db_path: Path, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve the CRM API until SIGTERM or KeyboardInterrupt (blocking)."""
    server = make_server(db_path, host, port)
    if threading.current_thread() is threading.main_thread():
        signal.signal(
            signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start()
        )
    log.info("CRM API on http://%s:%d over %s", host, server.server_address[1], db_path)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@contextlib.contextmanager
def running_crm_service(db_path: Path, port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
    """Run the CRM API in a background thread; yields its base URL (port 0: any free port)."""
    server = make_server(db_path, host, port)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="crm-api", daemon=True
    )
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main(argv: list[str] | None = None) -> None:
    from core.settings import get_settings
    from ingestion.simulator.layout import crm_database

    settings = get_settings()
    default_port = urlsplit(settings.crm_api_url).port or 8765
    parser = argparse.ArgumentParser(description="Serve the CRM REST API over the CRM database.")
    parser.add_argument("--db", type=Path, default=crm_database(settings.sources_root))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    serve(args.db, args.host, args.port)


if __name__ == "__main__":
    main()
