"""What makes a training run reproducible: data commit + config + code, as one fingerprint."""

from __future__ import annotations

import hashlib
from pathlib import Path


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
