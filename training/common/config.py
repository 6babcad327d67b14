"""Typed training configs: a ``tiny`` size for tests, a ``demo`` size, and a stable hash."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Base of every family's config; subclasses add their hyperparameters."""

    size: str = "demo"  # "tiny" (tests, seconds) | "demo" (minutes)
    seed: int = 42
    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-3

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"family": type(self).__name__}

    def config_hash(self) -> str:
        """sha256 of the config (family + every field): the same config, the same hash."""
        text = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()
