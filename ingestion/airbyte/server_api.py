"""The Airbyte server calls VoiceOps makes beyond what ``dagster-airbyte`` covers.

Public API (``AIRBYTE_REST_API_BASE_URL``): destinations and connections are read, created
and PATCHed (``/destinations``, ``/connections``), sources listed (``/sources``). Config API
(``AIRBYTE_CONFIGURATION_API_BASE_URL``): a connection's per-stream sync state is read and
written (``/state/get``, ``/state/create_or_update_safe``; the public API has no state
endpoints), so the state kept in lake commits stays the one Airbyte resumes from.

Requests go through the session of ``dagster-airbyte``'s client (bearer token from
``AIRBYTE_CLIENT_ID`` / ``AIRBYTE_CLIENT_SECRET``, refreshed when it expires). Errors raise
:class:`AirbyteApiError` with the server's answer; nothing is retried (these are writes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster_airbyte.resources import AirbyteClient


class AirbyteApiError(RuntimeError):
    """An Airbyte API call answered with an error."""


def state_message(stream: str, stream_state: Any) -> dict[str, Any]:
    """A per-stream state as the STREAM state message embedded mode keeps in lake commits."""
    return {
        "type": "STREAM",
        "stream": {"stream_descriptor": {"name": stream}, "stream_state": stream_state},
    }


class AirbyteServerApi:
    """Destinations, connections, sources and sync state of one Airbyte workspace."""

    def __init__(self, client: AirbyteClient) -> None:
        self.client = client

    @property
    def workspace_id(self) -> str:
        return self.client.workspace_id

    def _request(
        self,
        method: str,
        url: str,
        data: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        # Private helper of the pinned dagster-airbyte: a session with the auth headers.
        session = self.client._get_session(include_additional_request_headers=True)
        response = session.request(
            method, url, json=data, params=params, timeout=self.client.request_timeout
        )
        if response.status_code >= 400:
            raise AirbyteApiError(
                f"Airbyte {method} {url} answered {response.status_code}: {response.text[:500]}"
            )
        return response.json() if response.content else {}

    def _public(self, method: str, path: str, data: Any = None, params: Any = None) -> Any:
        return self._request(method, f"{self.client.rest_api_base_url}{path}", data, params)

    def _list(self, path: str) -> list[dict[str, Any]]:
        """Every item of a paginated public list endpoint of the workspace."""
        items: list[dict[str, Any]] = []
        offset, limit = 0, 100
        while True:
            page = self._public(
                "GET",
                path,
                params={"workspaceIds": self.workspace_id, "limit": limit, "offset": offset},
            )
            items.extend(page.get("data", []))
            if not page.get("next"):
                return items
            offset += limit

    # -- destinations ------------------------------------------------------------------------

    def list_destinations(self) -> list[dict[str, Any]]:
        return self._list("/destinations")

    def get_destination(self, destination_id: str) -> dict[str, Any]:
        return self._public("GET", f"/destinations/{destination_id}")

    def create_destination(self, name: str, configuration: Mapping[str, Any]) -> dict[str, Any]:
        body = {"name": name, "workspaceId": self.workspace_id, "configuration": configuration}
        return self._public("POST", "/destinations", body)

    def patch_destination(
        self, destination_id: str, configuration: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self._public(
            "PATCH", f"/destinations/{destination_id}", {"configuration": configuration}
        )

    # -- sources and connections -------------------------------------------------------------

    def list_sources(self) -> list[dict[str, Any]]:
        return self._list("/sources")

    def list_connections(self) -> list[dict[str, Any]]:
        return self._list("/connections")

    def get_connection(self, connection_id: str) -> dict[str, Any]:
        return self._public("GET", f"/connections/{connection_id}")

    def create_connection(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._public("POST", "/connections", body)

    def patch_connection(self, connection_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._public("PATCH", f"/connections/{connection_id}", body)

    def delete_connection(self, connection_id: str) -> None:
        self._public("DELETE", f"/connections/{connection_id}")

    # -- sync state (config API) -------------------------------------------------------------

    def _config(self, path: str, data: Mapping[str, Any]) -> Any:
        return self._request("POST", f"{self.client.configuration_api_base_url}{path}", data)

    def get_stream_states(self, connection_id: str) -> dict[str, dict[str, Any]]:
        """``{stream: STREAM state message}`` of the connection (empty when it has none)."""
        answer = self._config("/state/get", {"connectionId": connection_id})
        return {
            entry["streamDescriptor"]["name"]: state_message(
                entry["streamDescriptor"]["name"], entry.get("streamState")
            )
            for entry in answer.get("streamState") or []
            if entry.get("streamDescriptor", {}).get("name")
        }

    def set_stream_states(
        self, connection_id: str, messages: Mapping[str, Mapping[str, Any]]
    ) -> None:
        """Replace the connection's state by these STREAM state messages (streams missing
        from ``messages`` start from scratch). Refused by the server while a sync runs."""
        stream_state = [
            {
                "streamDescriptor": {"name": stream},
                "streamState": message["stream"].get("stream_state"),
            }
            for stream, message in messages.items()
        ]
        self._config(
            "/state/create_or_update_safe",
            {
                "connectionId": connection_id,
                "connectionState": {
                    "stateType": "stream",
                    "connectionId": connection_id,
                    "streamState": stream_state,
                },
            },
        )
