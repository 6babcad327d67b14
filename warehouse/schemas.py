"""Warehouse schema names: one audit schema per lake branch, one published schema.

Write-audit-publish: an ingestion branch ``ingest-20260101-2b84072b-ce4`` is loaded and
tested in ``audit_ingest_20260101_2b84072b_ce4``; what passes is published to ``published``.
Each base schema has layers, as dbt names custom schemas: ``<schema>_raw`` (the loader's
tables, dbt's sources), ``<schema>_seeds``, ``<schema>_staging``, ``<schema>_intermediate``,
``<schema>_marts``.

Names are ``[a-z0-9_]`` (no quoting surprises in either engine) and a layer schema fits the
63-byte identifier limit of Postgres, which would otherwise truncate it silently.
"""

from __future__ import annotations

import hashlib
import re

#: Postgres truncates longer identifiers (NAMEDATALEN - 1).
MAX_IDENTIFIER = 63
PUBLISHED = "published"
AUDIT_PREFIX = "audit_"
#: dbt writes seeds to ``<schema>_seeds`` (``+schema: seeds`` in dbt_project.yml).
LAYERS = ("raw", "seeds", "staging", "intermediate", "marts", "snapshots")
#: The dbt project's marts: one per model family, the quarantine and the quality summary.
MARTS = (
    "nlu_examples",
    "stt_examples",
    "nlg_examples",
    "tts_examples",
    "quarantine",
    "data_quality_summary",
)
#: Room kept for the longest layer suffix, so ``<schema>_<layer>`` stays within the limit.
_LAYER_ROOM = max(len(layer) for layer in LAYERS) + 1
MAX_BASE = MAX_IDENTIFIER - _LAYER_ROOM


def sanitize(name: str, *, max_length: int = MAX_IDENTIFIER) -> str:
    """``name`` lowercased with every character outside ``[a-z0-9_]`` replaced by ``_``.

    A name longer than ``max_length`` keeps its beginning and ends with 8 hex digits of its
    hash, so two long names that share a prefix still get different schemas.
    """
    clean = re.sub(r"[^a-z0-9_]", "_", name.lower())
    if not clean:
        raise ValueError("a schema name needs at least one character")
    if len(clean) > max_length:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        clean = f"{clean[: max_length - 9].rstrip('_')}_{digest}"
    return clean


def audit_schema(branch: str) -> str:
    """``audit_<branch>``: the schema that holds a lake branch while it is audited."""
    return sanitize(AUDIT_PREFIX + branch, max_length=MAX_BASE)


def layer_schema(schema: str, layer: str) -> str:
    """``<schema>_<layer>``, e.g. ``audit_x_raw``; refuses names Postgres would truncate."""
    name = f"{schema}_{layer}"
    if len(name.encode()) > MAX_IDENTIFIER:
        raise ValueError(
            f"schema {name} is longer than {MAX_IDENTIFIER} bytes (Postgres would truncate it)"
        )
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"schema {name}: use only a-z, 0-9 and _ (see sanitize())")
    return name


def raw_schema(schema: str) -> str:
    """Where the loader puts the lake's tables (dbt's sources)."""
    return layer_schema(schema, "raw")


def all_schemas(schema: str) -> list[str]:
    """Every schema that belongs to ``schema``: itself and its layers (to drop them)."""
    return [schema, *(layer_schema(schema, layer) for layer in LAYERS)]
