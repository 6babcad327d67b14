"""Typed training configs: a ``tiny`` size for tests, a ``demo`` size (and, for families that
have one, a ``large`` size for longer runs), and a stable hash."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any, ClassVar


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Base of every family's config; subclasses add their hyperparameters."""

    #: The presets this family defines, each a classmethod of that name.
    PRESETS: ClassVar[tuple[str, ...]] = ("tiny", "demo")

    size: str = "demo"  # "tiny" (tests, seconds) | "demo" (minutes) | "large" (longer runs)
    seed: int = 42
    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-3

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"family": type(self).__name__}

    @classmethod
    def preset(cls, size: str, settings: list[str] | tuple[str, ...] = ()) -> TrainConfig:
        """A preset of :attr:`PRESETS` with ``FIELD=VALUE`` overrides (the CLIs' ``--set``),
        each value cast to its field's type (int, float, bool, str)."""
        if size not in cls.PRESETS:
            expected = ", ".join(cls.PRESETS)
            raise ValueError(f"{cls.__name__} has no preset {size!r}; expected one of {expected}")
        types = {f.name: f.type for f in dataclasses.fields(cls)}
        casts = {"int": int, "float": float, "str": str}
        casts["bool"] = lambda v: v.lower() in ("1", "true")
        overrides = {}
        for item in settings:
            key, _, value = item.partition("=")
            if key not in types:
                raise ValueError(f"--set {item}: {cls.__name__} has no field {key!r}")
            cast = casts.get(types[key], _json_value)  # e.g. tuples: --set 'range=[1, 2]'
            overrides[key] = cast(value)
        return getattr(cls, size)(**overrides)

    def config_hash(self) -> str:
        """sha256 of the config (family + every field): the same config, the same hash."""
        text = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _json_value(text: str) -> Any:
    """A ``--set`` value of a non-scalar field, written as JSON (lists become tuples)."""
    value = json.loads(text)
    return tuple(value) if isinstance(value, list) else value
