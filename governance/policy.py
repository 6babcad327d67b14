"""The retention policy: days per layer, from ``governance/retention.yaml`` or a team's file."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import yaml

from core.errors import InputError

DEFAULT_POLICY = Path(__file__).with_name("retention.yaml")


@dataclass(frozen=True)
class RetentionPolicy:
    """Days each layer keeps its data."""

    audit_schemas: float
    ingest_branches: float
    events: float
    connector_logs: float

    @classmethod
    def load(cls, path: Path | None = None) -> RetentionPolicy:
        """The policy in ``path`` (default: the packaged file); every layer must be set."""
        path = path or DEFAULT_POLICY
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise InputError(f"{path}: cannot read the retention policy: {error}") from None
        if not isinstance(data, dict):
            raise InputError(f"{path}: the retention policy must map layers to days")
        names = {field.name for field in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InputError(f"{path}: unknown layer {unknown[0]!r} (layers: {sorted(names)})")
        values = {}
        for name in sorted(names):
            value = data.get(name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise InputError(f"{path}: {name}: days must be a positive number, got {value!r}")
            values[name] = float(value)
        return cls(**values)
