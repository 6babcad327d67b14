"""The warehouse: lake commits loaded into DuckDB or Postgres, modelled and audited by dbt.

``load_commit`` copies one lake commit's ``raw/`` and ``quarantine/`` objects into the
``<schema>_raw`` tables dbt reads; ``Warehouse`` hides which engine (``DBT_TARGET``) holds them.
"""

from warehouse.connection import Warehouse, WarehouseError, connect
from warehouse.load import LoadError, LoadReport, load_commit
from warehouse.schemas import PUBLISHED, audit_schema, layer_schema, raw_schema

__all__ = [
    "PUBLISHED",
    "LoadError",
    "LoadReport",
    "Warehouse",
    "WarehouseError",
    "audit_schema",
    "connect",
    "layer_schema",
    "load_commit",
    "raw_schema",
]
