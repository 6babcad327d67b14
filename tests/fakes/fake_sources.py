"""Readers for the fake Airbyte's sources, over the simulator's data (tests only).

They stand in for the connectors an Airbyte server would run, reading what they would read:

* :func:`crm_reader` — the declarative CRM connector (``manifests/crm.yaml``): the CRM REST
  API, paginated, incremental on ``updated_at`` (``updated_since`` inclusive), state
  ``{"updated_at": <max cursor>}``;
* :func:`export_reader` — ``source-file`` over a day's ``calls.jsonl``: it parses the file
  whole, so one line that is not a JSON object fails the read (and the sync).

Both return ``(records, new stream state)`` as :data:`tests.fakes.fake_airbyte.StreamReader`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from urllib.request import urlopen

from ingestion.simulator.layout import CALL_FIELDS, CUSTOMER_FIELDS, TICKET_FIELDS

#: JSON schema types of the streams' catalogs (what the connectors declare).
CALL_PROPERTIES = {name: "string" for name in CALL_FIELDS} | {
    "duration_s": "number",
    "sample_rate": "integer",
    "slots": "object",
}
CUSTOMER_PROPERTIES = dict.fromkeys(CUSTOMER_FIELDS, "string")
TICKET_PROPERTIES = dict.fromkeys(TICKET_FIELDS, "string")


def crm_reader(base_url: str, page_size: int = 50) -> Callable[[str, Any], tuple[list, Any]]:
    """Reads a CRM stream from ``base_url`` (all of it, or from the state's cursor on)."""

    def read(stream: str, state: Any) -> tuple[list[dict[str, Any]], Any]:
        since = (state or {}).get("updated_at")
        records: list[dict[str, Any]] = []
        token = None
        while True:
            params = {"page_size": page_size}
            if since:
                params["updated_since"] = since
            if token:
                params["page_token"] = token
            with urlopen(f"{base_url}/api/v1/{stream}?{urlencode(params)}", timeout=30) as answer:
                page = json.load(answer)
            records.extend(page["data"])
            token = page.get("next_page")
            if not token:
                break
        cursor = max((r["updated_at"] for r in records), default=since)
        return records, ({"updated_at": cursor} if cursor else state)

    return read


def export_reader(export_file: Path) -> Callable[[str, Any], tuple[list, Any]]:
    """Reads ``calls`` from one JSONL export, failing on a line that is not an object."""

    def read(stream: str, state: Any) -> tuple[list[dict[str, Any]], Any]:
        records = []
        for number, line in enumerate(export_file.read_text("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{export_file} line {number} is not JSON: {exc}") from exc
            if not isinstance(record, dict):
                raise ValueError(f"{export_file} line {number} is not a JSON object")
            records.append(record)
        return records, None

    return read
