"""The bank's REST API: JSON over the simulated core banking system (``ingestion.simulator.bank``).

Endpoints (JSON responses; ``{id}`` is a CRM customer id)::

    GET  /health                                   {"status": "ok", "crm": bool, "database": bool}
    GET  /api/v1/customers/{id}                    the CRM's customer: id, city, segment, language
    GET  /api/v1/customers/{id}/accounts           {"customer_id", "accounts": [...]}
    GET  /api/v1/customers/{id}/accounts/{type}    one account (checking|savings|credit|deposit)
    GET  /api/v1/rates?currency=USD[&date=YYYY-MM-DD]   {"currency", "date", "buy", "sell"}
    GET  /api/v1/branches?city=<lexicon city>      {"city", "branches": [{address, hours}...]}
    GET  /api/v1/loans/offer?amount=N              {"amount", "term_months", "annual_rate", ...}
    GET  /api/v1/operators/wait[?at=<ISO time>]    {"minutes", "at"}
    POST /api/v1/customers/{id}/tickets            body {"subject", "session_id"} -> the ticket
    POST /api/v1/customers/{id}/cards/{last4}/block     {"state": "blocked", "previous_state"}
    POST /api/v1/customers/{id}/cards/{last4}/activate  {"state": "active", "previous_state"}
    POST /api/v1/customers/{id}/cards/{last4}/pin       {"request_id": "PIN-...", ...}

Accounts hold ``balance_kopecks``; rates are rubles per unit (two decimals). A ticket is opened
once per (customer, session): a retry answers 200 with the same ticket instead of 201. Bad
parameters answer 400 with ``{"error", "parameter"}``, an unknown customer or city 404, a
missing CRM database 503 (customer endpoints only).

Run it: ``python -m ingestion.simulator.bank_service [--sources ROOT] [--db PATH] [--port 8790]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import sqlite3
import threading
from collections.abc import Callable
from datetime import date, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ingestion.simulator import bank
from ingestion.simulator.crm_service import BadParameter, JsonHandler, single

log = logging.getLogger(__name__)

DEFAULT_PORT = 8790
MAX_BODY = 64 * 1024
Params = dict[str, list[str]]
Reply = tuple[HTTPStatus, dict[str, Any]]


def only(params: Params, *allowed: str) -> None:
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise BadParameter(unknown[0], "unknown parameter")


def required(params: Params, name: str) -> str:
    value = single(params, name)
    if value is None or not value.strip():
        raise BadParameter(name, "required")
    return value.strip()


def parse_date(value: str | None) -> date:
    if value is None:
        return datetime.now(bank.BANK_TIME).date()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise BadParameter("date", f"not a YYYY-MM-DD date: {value!r}") from exc


def parse_amount(value: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise BadParameter("amount", f"not a whole number of rubles: {value!r}") from exc


def parse_moment(value: str | None) -> datetime:
    if value is None:
        return datetime.now(bank.BANK_TIME)
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadParameter("at", f"not an ISO 8601 time: {value!r}") from exc


# --------------------------------------------------------------------------- endpoints


def get_customer(store: bank.Bank, args: tuple[str, ...], params: Params, body: Any) -> Reply:
    only(params)
    return HTTPStatus.OK, store.customer(args[0])


def get_accounts(store: bank.Bank, args: tuple[str, ...], params: Params, body: Any) -> Reply:
    only(params)
    return HTTPStatus.OK, {"customer_id": args[0], "accounts": store.accounts(args[0])}


def get_account(store: bank.Bank, args: tuple[str, ...], params: Params, body: Any) -> Reply:
    only(params)
    return HTTPStatus.OK, store.account(args[0], args[1])


def get_rates(store: bank.Bank, args: tuple[str, ...], params: Params, body: Any) -> Reply:
    only(params, "currency", "date")
    currency = required(params, "currency").upper()
    return HTTPStatus.OK, store.rates(currency, parse_date(single(params, "date")))


def get_branches(store: bank.Bank, args: tuple[str, ...], params: Params, body: Any) -> Reply:
    only(params, "city")
    city = required(params, "city")
    return HTTPStatus.OK, {"city": city, "branches": store.branches(city)}


def get_loan_offer(store: bank.Bank, args: tuple[str, ...], params: Params, body: Any) -> Reply:
    only(params, "amount")
    return HTTPStatus.OK, bank.loan_offer(parse_amount(required(params, "amount")))


def get_wait(store: bank.Bank, args: tuple[str, ...], params: Params, body: Any) -> Reply:
    only(params, "at")
    moment = parse_moment(single(params, "at"))
    return HTTPStatus.OK, {"minutes": bank.operator_wait(moment), "at": moment.isoformat()}


def post_ticket(store: bank.Bank, args: tuple[str, ...], params: Params, body: Any) -> Reply:
    only(params)
    if not isinstance(body, dict):
        raise BadParameter("body", 'expected a JSON object {"subject", "session_id"}')
    for field in ("subject", "session_id"):
        if not isinstance(body.get(field), str):
            raise BadParameter(field, "required, a string")
    ticket, created = store.open_ticket(args[0], body["subject"], body["session_id"])
    return (HTTPStatus.CREATED if created else HTTPStatus.OK), ticket | {"created": created}


def post_card(store: bank.Bank, args: tuple[str, ...], params: Params, body: Any) -> Reply:
    only(params)
    customer_id, last4, action = args
    if action == "pin":
        return HTTPStatus.CREATED, store.request_pin_change(customer_id, last4)
    return HTTPStatus.OK, store.card_action(customer_id, last4, action)


Endpoint = Callable[[bank.Bank, tuple[str, ...], Params, Any], Reply]
CUSTOMER = r"/api/v1/customers/([^/]+)"
ROUTES: dict[str, list[tuple[re.Pattern[str], Endpoint]]] = {
    "GET": [
        (re.compile(rf"{CUSTOMER}"), get_customer),
        (re.compile(rf"{CUSTOMER}/accounts"), get_accounts),
        (re.compile(rf"{CUSTOMER}/accounts/([^/]+)"), get_account),
        (re.compile(r"/api/v1/rates"), get_rates),
        (re.compile(r"/api/v1/branches"), get_branches),
        (re.compile(r"/api/v1/loans/offer"), get_loan_offer),
        (re.compile(r"/api/v1/operators/wait"), get_wait),
    ],
    "POST": [
        (re.compile(rf"{CUSTOMER}/tickets"), post_ticket),
        (re.compile(rf"{CUSTOMER}/cards/([^/]+)/(block|activate|pin)"), post_card),
    ],
}
#: Refusals of the bank -> (HTTP status, the parameter they are about).
REFUSALS: tuple[tuple[type[Exception], HTTPStatus, str | None], ...] = (
    (bank.UnknownCustomer, HTTPStatus.NOT_FOUND, "customer_id"),
    (bank.UnknownCity, HTTPStatus.NOT_FOUND, "city"),
    (bank.CrmUnavailable, HTTPStatus.SERVICE_UNAVAILABLE, None),
    (bank.BankError, HTTPStatus.SERVICE_UNAVAILABLE, None),
    (sqlite3.Error, HTTPStatus.SERVICE_UNAVAILABLE, None),
)


def make_handler(the_bank: bank.Bank) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to ``the_bank``."""

    class BankHandler(JsonHandler):
        server_version = "VoiceOpsBank/1.0"
        api_name = "bank-api"

        def do_GET(self) -> None:
            self.dispatch("GET")

        def do_POST(self) -> None:
            self.dispatch("POST")

        def dispatch(self, method: str) -> None:
            url = urlsplit(self.path)
            params = parse_qs(url.query, keep_blank_values=True)
            try:
                body = self.read_body() if method == "POST" else None
                if method == "GET" and url.path == "/health":
                    health = {
                        "crm": the_bank.crm_path.is_file(),
                        "database": the_bank.path.is_file(),
                    }
                    self.reply(HTTPStatus.OK, {"status": "ok"} | health)
                    return
                for pattern, endpoint in ROUTES[method]:
                    match = pattern.fullmatch(url.path)
                    if match:
                        args = tuple(unquote(group) for group in match.groups())
                        self.reply(*endpoint(the_bank, args, params, body))
                        return
                self.reply(
                    HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: {method} {url.path}"}
                )
            except (BadParameter, bank.BadValue) as exc:
                self.reply(HTTPStatus.BAD_REQUEST, {"error": str(exc), "parameter": exc.parameter})
            except (bank.BankError, sqlite3.Error) as exc:
                status, parameter = next((s, p) for kind, s, p in REFUSALS if isinstance(exc, kind))
                error = {"error": str(exc)} | ({"parameter": parameter} if parameter else {})
                self.reply(status, error)

        def read_body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise BadParameter("body", f"larger than {MAX_BODY} bytes")
            raw = self.rfile.read(length) if length else b""
            if not raw.strip():
                return None
            try:
                return json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise BadParameter("body", f"not JSON: {exc}") from exc

    return BankHandler


class BankServer(ThreadingHTTPServer):
    """The bank API's HTTP server; :meth:`stop` ends a server started by :func:`start_in_thread`."""

    daemon_threads = True
    thread: threading.Thread | None = None

    def stop(self) -> None:
        """Stop serving, close the socket and wait for the serving thread."""
        self.shutdown()
        self.server_close()
        if self.thread is not None:
            self.thread.join()


def make_server(
    sources_root: Path, host: str = "127.0.0.1", port: int = DEFAULT_PORT, db: Path | None = None
) -> BankServer:
    return BankServer((host, port), make_handler(bank.Bank(Path(sources_root), db)))


def start_in_thread(
    sources_root: Path, host: str = "127.0.0.1", port: int = 0
) -> tuple[BankServer, str]:
    """Serve the bank API from a background thread (port 0: any free port); (server, base URL).

    Call ``server.stop()`` to shut it down cleanly.
    """
    server = make_server(sources_root, host, port)
    server.thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="bank-api", daemon=True
    )
    server.thread.start()
    return server, f"http://{host}:{server.server_address[1]}"


def serve(server: BankServer) -> None:
    """Serve until SIGTERM or KeyboardInterrupt (blocking)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(
            signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start()
        )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    from core.settings import get_settings

    parser = argparse.ArgumentParser(description="Serve the simulated bank's REST API.")
    parser.add_argument("--sources", type=Path, default=None, help="sources root (CRM inside)")
    parser.add_argument("--db", type=Path, default=None, help="bank database (default: in sources)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    sources = args.sources or get_settings().sources_root
    logging.basicConfig(level=logging.INFO)
    server = make_server(sources, args.host, args.port, args.db)
    log.info("bank API on http://%s:%d over %s", args.host, server.server_address[1], sources)
    serve(server)


if __name__ == "__main__":
    main()
