"""The gate's versioned configuration (``registry/thresholds.yaml``), parsed and typed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from registry.errors import RegistryError
from registry.smoke import SmokeLimits

DEFAULT_PATH = Path(__file__).resolve().parent / "thresholds.yaml"


@dataclass(frozen=True)
class FamilyPolicy:
    """Gated metrics, floors/ceilings and latency budget of one family."""

    metrics: dict[str, str]  # metric -> "higher" | "lower": compared with the champion
    minimum: dict[str, dict[str, float]] = field(default_factory=dict)
    maximum: dict[str, dict[str, float]] = field(default_factory=dict)
    latency_budget_ms: float = 1000.0


@dataclass(frozen=True)
class Policy:
    """The whole gate configuration and the hash of the text it came from."""

    families: dict[str, FamilyPolicy]
    split: str = "test"
    smoke_repeats: int = 5
    smoke_timeout_s: float = 240.0
    smoke_limits: SmokeLimits = field(default_factory=SmokeLimits)
    #: paired bootstrap against the champion: family-wise confidence and resamples
    comparison_confidence: float = 0.95
    comparison_resamples: int = 2000
    promote_first_passing: bool = True
    sha256: str = ""
    source: str = ""

    def family(self, name: str) -> FamilyPolicy:
        if name not in self.families:
            raise RegistryError(f"no gate policy for family {name!r} in {self.source}")
        return self.families[name]


def parse_policy(data: dict[str, Any], *, sha256: str = "", source: str = "") -> Policy:
    """A :class:`Policy` from the YAML structure."""
    families = {
        name: FamilyPolicy(
            metrics=dict(spec.get("metrics") or {}),
            minimum={k: dict(v) for k, v in (spec.get("minimum") or {}).items()},
            maximum={k: dict(v) for k, v in (spec.get("maximum") or {}).items()},
            latency_budget_ms=float(spec.get("latency_budget_ms", 1000.0)),
        )
        for name, spec in (data.get("families") or {}).items()
    }
    smoke = data.get("smoke") or {}
    comparison = data.get("comparison") or {}
    limits = {k: float(v) for k, v in (smoke.get("limits") or {}).items()}
    unknown = sorted(set(limits) - set(SmokeLimits.__dataclass_fields__))
    if unknown:
        raise RegistryError(f"{source or 'policy'}: unknown smoke limits {unknown}")
    return Policy(
        families=families,
        split=str(data.get("split", "test")),
        smoke_repeats=int(smoke.get("repeats", 5)),
        smoke_timeout_s=float(smoke.get("timeout_s", 240)),
        smoke_limits=SmokeLimits(**limits),
        comparison_confidence=float(comparison.get("confidence", 0.95)),
        comparison_resamples=int(comparison.get("resamples", 2000)),
        promote_first_passing=bool(data.get("promote_first_passing", True)),
        sha256=sha256,
        source=source,
    )


def load_policy(path: Path | None = None) -> Policy:
    """The policy in ``path`` (default: the packaged ``thresholds.yaml``)."""
    path = Path(path or DEFAULT_PATH)
    text = path.read_text(encoding="utf-8")
    return parse_policy(
        yaml.safe_load(text) or {},
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        source=str(path),
    )
