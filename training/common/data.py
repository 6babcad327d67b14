"""Read a mart of the published warehouse, pinned to the lake commit it was built from.

Marts count as built from a commit only when the newest dbt build of their schema succeeded
and is of the commit the schema was last loaded from (``warehouse.builds``): a failed or
pending rebuild leaves marts of an older commit, which must not be trained on as the new one.
"""

from __future__ import annotations

import json
from typing import Any

from core.errors import VoiceOpsError
from core.settings import Settings
from training.common.lineage import canonical_order
from warehouse.builds import BuildRecord, StaleMartsError, current_build
from warehouse.connection import Warehouse, qualified
from warehouse.load import loaded_commit
from warehouse.schemas import PUBLISHED, layer_schema

SPLITS = ("train", "validation", "test", "test_channel", "test_real")


class StaleDataError(VoiceOpsError):
    """The warehouse's marts are not a successful build of the lake commit a run asked for."""


def published_build(settings: Settings) -> BuildRecord | None:
    """The build the ``published`` marts are: its lake commit and the dbt manifest hash of
    the code that built them (None before any publish); ``StaleDataError`` when the last
    load was not built, or its build failed."""
    with Warehouse.from_settings(settings) as warehouse:
        if loaded_commit(warehouse, PUBLISHED) is None:
            return None
        try:
            return current_build(warehouse, PUBLISHED)
        except StaleMartsError as error:
            raise StaleDataError(str(error)) from None


def published_commit(settings: Settings) -> str | None:
    """The lake commit the ``published`` marts are a successful build of (see
    :func:`published_build`)."""
    build = published_build(settings)
    return None if build is None else build.lake_commit


def read_mart(
    settings: Settings,
    mart: str,
    *,
    commit: str | None = None,
    splits: tuple[str, ...] = SPLITS,
    schema: str = PUBLISHED,
) -> list[dict[str, Any]]:
    """Rows of ``<schema>_marts.<mart>`` in ``splits``, in canonical order; ``slots`` decoded.

    With ``commit``, refuses marts that are not a successful build of that lake commit, so a
    run never trains on data other than what it records in its lineage.
    """
    with Warehouse.from_settings(settings) as warehouse:
        if commit is not None:
            try:
                actual = current_build(warehouse, schema).lake_commit
            except StaleMartsError as error:
                raise StaleDataError(f"{error}; publish or rebuild it first") from None
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
