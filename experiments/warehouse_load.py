"""Copy the experiment event store into the warehouse, where dbt's experiment models read it.

The events land in ``experiments_raw.turn_events`` (dbt source ``experiments_raw``) of the
warehouse ``DBT_TARGET`` names: the DuckDB file by default, Postgres in production. The copy
goes through pandas and Arrow: DuckDB could read the SQLite store only with an extension it
would have to download. Each load replaces the table's rows in one transaction (late events,
replayed from a dead worker's spool, carry old timestamps, so there is no safe watermark to
append from); the table exists after the first load even when there are no events yet, so the
dbt models build on an empty experiment.

The callers are pseudonymised on the way: ``user_id`` holds :func:`core.pseudonym.customer_key`
of the CRM id (the same key the call marts carry), so the experiment marts hold no CRM id.

The experiment schema is not an audit schema: nothing here touches what the publish gate
tests, and the experiment models are excluded from its dbt build (``warehouse.dbt_build``).
"""

from __future__ import annotations

import pyarrow as pa

from core.pseudonym import customer_key, pseudonym_key
from core.settings import Settings
from experiments.event_store import TABLE, EventStore
from experiments.events import COLUMN_TYPES
from warehouse.connection import Warehouse, qualified, quote

RAW_SCHEMA = "experiments_raw"
_SQL_TYPES = {"text": "TEXT", "int": "BIGINT", "real": "DOUBLE PRECISION", "bool": "BOOLEAN"}


def raw_column_types() -> dict[str, str]:
    """The SQL type of each column of ``turn_events`` (``occurred_at`` typed as a time)."""
    types = {name: _SQL_TYPES[kind] for name, kind in COLUMN_TYPES.items()}
    types["occurred_at"] = "TIMESTAMP WITH TIME ZONE"
    return types


def raw_table_ddl() -> str:
    """The columns of ``turn_events`` in the warehouse."""
    return ", ".join(f"{quote(name)} {kind}" for name, kind in raw_column_types().items())


def load_events(
    settings: Settings, *, store: EventStore | None = None, schema: str = RAW_SCHEMA
) -> int:
    """Replace ``<schema>.turn_events`` in the warehouse with every stored event; the count."""
    own_store = store is None
    store = store or EventStore.from_settings(settings)
    try:
        frame = store.read_frame()
    finally:
        if own_store:
            store.close()
    key = pseudonym_key(settings)
    frame["user_id"] = [customer_key(str(user), key) for user in frame["user_id"]]
    data = pa.Table.from_pandas(frame, preserve_index=False)
    table = qualified(schema, TABLE)
    with Warehouse.from_settings(settings) as warehouse, warehouse.transaction():
        warehouse.create_schema(schema)
        warehouse.execute(f"CREATE TABLE IF NOT EXISTS {table} ({raw_table_ddl()})")
        present = set(warehouse.columns(schema, TABLE))
        for name, kind in raw_column_types().items():
            if name not in present:  # a table an older version made: add the newer columns
                warehouse.execute(f"ALTER TABLE {table} ADD COLUMN {quote(name)} {kind}")
        warehouse.execute(f"DELETE FROM {table}")
        return warehouse.insert_arrow(schema, TABLE, data)
