"""What makes a training run reproducible: data commit + config + code, as one fingerprint."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np


def code_version(package_dir: Path) -> str:
    """sha256 of every ``.py`` file of a model family (and the shared training code)."""
    digest = hashlib.sha256()
    shared = Path(__file__).resolve().parent
    for path in sorted([*package_dir.rglob("*.py"), *shared.rglob("*.py")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def fingerprint(lake_commit: str, config_hash: str, code: str) -> str:
    """Same data, same config, same code -> same fingerprint -> nothing to retrain."""
    return hashlib.sha256(f"{lake_commit}:{config_hash}:{code}".encode()).hexdigest()[:16]


def _canonical(row: dict) -> str:
    """A row as sorted-key JSON, decoded payloads (arrays, bytes) left out."""
    return json.dumps(
        {k: v for k, v in row.items() if not isinstance(v, bytes | np.ndarray)},
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )


def canonical_order(rows: list[dict]) -> list[dict]:
    """``rows`` sorted by content: the same data gives the same order from any engine or
    schema (SQL returns rows in no particular order, and training shuffles from the order
    it is given)."""
    return sorted(rows, key=_canonical)


def rows_hash(rows: list[dict]) -> str:
    """sha256 of the rows' content, independent of row order: the training data's identity.

    Decoded payloads attached to rows (arrays, bytes: e.g. audio read from the lake) are left
    out: the lake path and commit in the row already name that content exactly.
    """
    digest = hashlib.sha256()
    for line in sorted(_canonical(row) for row in rows):
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def split_counts(rows: list[dict]) -> dict[str, int]:
    """Rows per split (``split`` column), e.g. ``{"train": 812, "test": 140}``."""
    counts: dict[str, int] = {}
    for row in rows:
        split = str(row.get("split", "train"))
        counts[split] = counts.get(split, 0) + 1
    return dict(sorted(counts.items()))
