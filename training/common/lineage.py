"""What makes a training run reproducible: data commit + config + code, as one fingerprint."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

#: file types a family reads: its code, configs and hand-written data (e.g. ``nlu/human/*.yaml``)
SOURCE_SUFFIXES = frozenset({".py", ".yaml", ".yml", ".json", ".txt", ".csv"})
#: The ``training/`` package this module is part of.
TRAINING_DIR = Path(__file__).resolve().parents[1]
#: Shared training code in every family's code version: the helpers every family uses, the
#: family table (targets, splits scored, models used) and the pipeline steps (train, evaluate)
SHARED_CODE = ("common", "families.py", "steps.py")


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


def shared_sources(training_dir: Path = TRAINING_DIR) -> list[tuple[str, Path]]:
    """The shared training code's files as (path relative to ``training_dir``, path):
    :data:`SHARED_CODE` under ``training_dir``, sorted."""
    files = []
    for name in SHARED_CODE:
        path = training_dir / name
        if path.is_dir():
            files += [(f"{name}/{relative}", file) for relative, file in _source_files(path)]
        elif path.is_file():
            files.append((name, path))
    return sorted(files)


def code_version(package_dir: Path, training_dir: Path = TRAINING_DIR) -> str:
    """sha256 of a model family's source and data files and of the shared training code
    (:data:`SHARED_CODE`: ``training/common/``, ``families.py``, ``steps.py``), which decides
    how every family trains and is scored: an edit of either is a new code version.

    Each file counts by its path relative to its package (the shared files: to
    ``training_dir``) and its content with LF line endings, so the hash is the same in any
    clone, wherever it is checked out. Other families' packages do not count.
    """
    digest = hashlib.sha256()
    family_files = [(f"family/{relative}", path) for relative, path in _source_files(package_dir)]
    shared_files = [(f"shared/{relative}", path) for relative, path in shared_sources(training_dir)]
    for label, path in family_files + shared_files:
        content = path.read_bytes().replace(b"\r\n", b"\n")
        digest.update(f"{label}\0{len(content)}\0".encode())
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
