"""What makes a training run reproducible: data commit + config + code, as one fingerprint."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

#: file types a family reads: its code, configs and hand-written data (e.g. ``nlu/human/*.yaml``)
SOURCE_SUFFIXES = frozenset({".py", ".yaml", ".yml", ".json", ".txt", ".csv"})


def _source_files(root: Path) -> list[tuple[str, Path]]:
    """``root``'s source and data files as (relative POSIX path, path), sorted by that path.

    Hidden files and folders, ``__pycache__`` and READMEs are left out.
    """
    files = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if (
            not path.is_file()
            or path.suffix.lower() not in SOURCE_SUFFIXES
            or path.stem.upper() == "README"
            or any(part.startswith(".") or part == "__pycache__" for part in relative.parts)
        ):
            continue
        files.append((relative.as_posix(), path))
    return sorted(files)


def code_version(package_dir: Path) -> str:
    """sha256 of a model family's source and data files and the shared training code's.

    Each file counts by its path relative to its package and its content with LF line
    endings, so the hash is the same in any clone, wherever it is checked out.
    """
    digest = hashlib.sha256()
    shared = Path(__file__).resolve().parent
    for label, root in (("family", package_dir), ("common", shared)):
        for relative, path in _source_files(root):
            content = path.read_bytes().replace(b"\r\n", b"\n")
            digest.update(f"{label}/{relative}\0{len(content)}\0".encode())
            digest.update(content)
    return digest.hexdigest()[:16]


def fingerprint(data_hash: str, config_hash: str, code: str) -> str:
    """Same data (the hash of the training rows), same config, same code -> same fingerprint
    -> nothing to retrain."""
    return hashlib.sha256(f"{data_hash}:{config_hash}:{code}".encode()).hexdigest()[:16]


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
