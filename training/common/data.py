"""Read a mart of the published warehouse, pinned to the lake commit it was built from."""

from __future__ import annotations

import json
from typing import Any

from training.common.lineage import canonical_order
from voiceops.settings import Settings
from warehouse.connection import Warehouse, qualified
from warehouse.load import loaded_commit
from warehouse.schemas import PUBLISHED, layer_schema

SPLITS = ("train", "validation", "test", "test_real")


class StaleDataError(Exception):
    """The published warehouse is not at the lake commit a run asked for."""


def published_commit(settings: Settings) -> str | None:
    """The lake commit the ``published`` schema was built from (None before any publish)."""
    with Warehouse.from_settings(settings) as warehouse:
        return loaded_commit(warehouse, PUBLISHED)


def read_mart(
    settings: Settings,
    mart: str,
    *,
    commit: str | None = None,
    splits: tuple[str, ...] = SPLITS,
    schema: str = PUBLISHED,
) -> list[dict[str, Any]]:
    """Rows of ``<schema>_marts.<mart>`` in ``splits``, in canonical order; ``slots`` decoded.

    With ``commit``, refuses to read a warehouse built from another lake commit, so a run
    never trains on data other than what it records in its lineage.
    """
    with Warehouse.from_settings(settings) as warehouse:
        if commit is not None:
            actual = loaded_commit(warehouse, schema)
            if actual != commit:
                raise StaleDataError(
                    f"{schema} is built from lake commit {actual}, not {commit}: publish or "
                    "rebuild it first"
                )
        table = qualified(layer_schema(schema, "marts"), mart)
        columns = warehouse.columns(layer_schema(schema, "marts"), mart)
        marks = ", ".join("?" for _ in splits)
        rows = warehouse.fetchall(f"SELECT * FROM {table} WHERE split IN ({marks})", splits)
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    for record in records:
        if isinstance(record.get("slots"), str):
            record["slots"] = json.loads(record["slots"])
    return canonical_order(records)
