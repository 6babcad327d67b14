"""The voice bot's client of the bank's REST API (``ingestion.simulator.bank_service``).

One method per endpoint, returning the service's JSON. A bank that cannot answer (connection
refused, timeout, 5xx, a body that is not JSON) raises :class:`BankUnavailable`; a request the
bank refuses (4xx: unknown customer or city, bad currency...) raises :class:`BankRefused` with
the service's error text.
"""

from __future__ import annotations

from datetime import date, datetime
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from core.errors import VoiceOpsError


class BankUnavailable(VoiceOpsError):
    """The bank did not answer usefully (down, slow, or failing)."""


class BankRefused(VoiceOpsError):
    """The bank refused the request (HTTP 4xx); ``status`` and ``parameter`` say why."""

    def __init__(self, message: str, status: int, parameter: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.parameter = parameter


def _segment(value: str) -> str:
    return quote(str(value), safe="")


class BankClient:
    """Calls the bank API at ``base_url``; usable as a context manager (closes its pool)."""

    def __init__(self, base_url: str, timeout_s: float = 2.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s)

    def __enter__(self) -> BankClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _call(
        self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None
    ) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, params=params, json=body)
        except httpx.HTTPError as exc:
            raise BankUnavailable(f"bank API {method} {self.base_url}{path}: {exc!r}") from exc
        try:
            payload = response.json()
        except ValueError:
            payload = {"error": response.text[:200]}
        where = f"bank API {method} {path}"
        if response.status_code >= 500 or not isinstance(payload, dict):
            error = payload.get("error") if isinstance(payload, dict) else payload
            raise BankUnavailable(f"{where} answered {response.status_code}: {error}")
        if response.status_code >= 400:
            message = f"{where} refused ({response.status_code}): {payload.get('error')}"
            raise BankRefused(message, response.status_code, payload.get("parameter"))
        return payload

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def customer(self, customer_id: str) -> dict[str, Any]:
        """The CRM's customer: ``customer_id``, ``city``, ``segment``, ``language``."""
        return self._call("GET", f"/api/v1/customers/{_segment(customer_id)}")

    def accounts(self, customer_id: str) -> list[dict[str, Any]]:
        """Every account of the customer (``account_type``, ``balance_kopecks``...)."""
        return self._call("GET", f"/api/v1/customers/{_segment(customer_id)}/accounts")["accounts"]

    def account(self, customer_id: str, account_type: str) -> dict[str, Any]:
        """One account by type, with its ``balance_kopecks``."""
        path = f"/api/v1/customers/{_segment(customer_id)}/accounts/{_segment(account_type)}"
        return self._call("GET", path)

    def rates(self, currency: str, day: date | None = None) -> dict[str, Any]:
        """``buy`` and ``sell`` (rubles per unit) of ``currency`` on ``day`` (default today)."""
        params = {"currency": currency} | ({"date": day.isoformat()} if day else {})
        return self._call("GET", "/api/v1/rates", params)

    def branches(self, city: str) -> list[dict[str, Any]]:
        """The city's branches, main first: ``address`` and ``hours`` as {"ru", "en"}."""
        return self._call("GET", "/api/v1/branches", {"city": city})["branches"]

    def loan_offer(self, amount: int) -> dict[str, Any]:
        """``annual_rate`` (%) and ``monthly_payment`` (rubles) for ``amount`` over 36 months."""
        return self._call("GET", "/api/v1/loans/offer", {"amount": amount})

    def operator_wait(self, at: datetime | None = None) -> int:
        """Minutes a caller waits for an agent now (or at ``at``)."""
        params = {"at": at.isoformat()} if at else None
        return int(self._call("GET", "/api/v1/operators/wait", params)["minutes"])

    def open_ticket(self, customer_id: str, subject: str, session_id: str) -> dict[str, Any]:
        """A complaint ticket (``ticket_id`` "CMP-NNNNNN"); the same one again for a session."""
        body = {"subject": subject, "session_id": session_id}
        return self._call("POST", f"/api/v1/customers/{_segment(customer_id)}/tickets", body=body)

    def _card(self, customer_id: str, last4: str, action: str) -> dict[str, Any]:
        path = f"/api/v1/customers/{_segment(customer_id)}/cards/{_segment(last4)}/{action}"
        return self._call("POST", path)

    def block_card(self, customer_id: str, last4: str) -> dict[str, Any]:
        """Block the card; returns its ``state`` ("blocked") and ``previous_state``."""
        return self._card(customer_id, last4, "block")

    def activate_card(self, customer_id: str, last4: str) -> dict[str, Any]:
        """Activate the card; returns its ``state`` ("active") and ``previous_state``."""
        return self._card(customer_id, last4, "activate")

    def change_pin(self, customer_id: str, last4: str) -> dict[str, Any]:
        """Request a PIN change; returns its ``request_id``."""
        return self._card(customer_id, last4, "pin")
