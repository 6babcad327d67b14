"""Arrow schemas of the raw Parquet files (raw stays raw: timestamps as ISO text, slots as JSON)."""

from __future__ import annotations

import pyarrow as pa

from ingestion.simulator.layout import CALL_FIELDS, CUSTOMER_FIELDS, TICKET_FIELDS

_NUMERIC = {"duration_s": pa.float64(), "sample_rate": pa.int64()}


def _schema(fields: tuple[str, ...]) -> pa.Schema:
    return pa.schema([pa.field(name, _NUMERIC.get(name, pa.string())) for name in fields])


CALLS = _schema(CALL_FIELDS)
CUSTOMERS = _schema(CUSTOMER_FIELDS)
TICKETS = _schema(TICKET_FIELDS)

BY_STREAM = {
    ("call_exports", "calls"): CALLS,
    ("crm", "customers"): CUSTOMERS,
    ("crm", "tickets"): TICKETS,
}
