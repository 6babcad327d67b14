"""Experiment specs: one YAML file per experiment in ``experiments/specs/<key>.yaml``.

A spec is reviewed like code; this module parses it into a typed, validated
:class:`ExperimentSpec` and turns every problem into an :class:`InputError` naming the file,
the field and the reason.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.errors import InputError
from experiments.metrics import METRICS
from training.families import FAMILIES

if TYPE_CHECKING:
    from core.settings import Settings

#: The reviewed specs (in the repository, changed through code review).
SPECS_DIR = Path(__file__).resolve().parent / "specs"
#: One specs directory, or several read together (a key may appear in only one).
SpecsDirs = Path | Sequence[Path]
KEY_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
WEIGHT_SUM_TOLERANCE = 1e-6


class _FieldError(ValueError):
    """A whole-spec check's failure that belongs to one field (named in the error)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Namespace(_Strict):
    """A slice ``[start, end)`` of a namespace; experiments in one namespace whose slices do
    not overlap never share a user."""

    id: str = Field(min_length=1)
    start: float = Field(ge=0, le=1)
    end: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> Namespace:
        if self.start >= self.end:
            raise ValueError(f"start {self.start} must be below end {self.end}")
        return self

    def as_tuple(self) -> tuple[str, float, float]:
        """GrowthBook's ``(id, start, end)`` form."""
        return (self.id, self.start, self.end)


class Metric(_Strict):
    """A metric that decides the experiment and which direction is better."""

    name: str = Field(min_length=1)
    better: Literal["higher", "lower"]

    @model_validator(mode="after")
    def _known(self) -> Metric:
        known = METRICS.get(self.name)
        if known is None:
            raise ValueError(f"unknown metric {self.name!r} (known: {', '.join(METRICS)})")
        if known.better != self.better:
            raise ValueError(f"{self.name} is better {known.better}, not {self.better}")
        return self


class Guardrails(_Strict):
    """Limits an arm must stay within whatever its decision metrics say."""

    latency_p99_ms: float = Field(gt=0)
    error_rate: float = Field(ge=0, le=1)
    handoff_rate: float = Field(ge=0, le=1)


class Rollout(_Strict):
    """A canary's schedule: the candidate's share of traffic at each stage, in order."""

    steps: list[float] = Field(min_length=1)
    #: candidate users a stage must see before the rollout may advance from it
    min_users_per_step: int = Field(gt=0)
    #: what the candidate must show at the last stage to be promoted: "wins" (significantly
    #: better on the primary metric, as in any experiment) or "holds" (no metric significantly
    #: worse and guardrails holding: a retrained version only has to do no harm)
    promote_when: Literal["wins", "holds"] = "wins"
    #: "holds" only: the largest harm (in the metric's units, e.g. 0.02 of resolution rate)
    #: the candidate must be shown not to exceed, every decision metric's interval clear of
    #: it; None: promoted when no metric is significantly worse (absence of evidence). With
    #: ``sequential``, it is also the scale of the mSPRT's mixing distribution: the test is
    #: then sized for effects of the margin's order (:meth:`ExperimentSpec.mixing_tau2`)
    non_inferiority_margin: float | None = Field(default=None, gt=0)

    @field_validator("steps")
    @classmethod
    def _increasing(cls, steps: list[float]) -> list[float]:
        if any(not 0 < step <= 1 for step in steps):
            raise ValueError("every step must be a share in (0, 1]")
        if any(b <= a for a, b in itertools.pairwise(steps)):
            raise ValueError("steps must increase")
        return steps


class ExperimentSpec(_Strict):
    """One experiment: arms of registry versions, traffic split, dates, metrics, guardrails."""

    key: str = Field(pattern=KEY_PATTERN)
    salt: str = ""  # empty -> the key (set by the validator below)
    #: arm name -> {family: registry version}; the first arm is the control
    arms: dict[str, dict[str, int]]
    #: arm name -> share of covered traffic; empty -> equal shares
    weights: dict[str, float] = Field(default_factory=dict)
    coverage: float = Field(default=1.0, ge=0, le=1)
    namespace: Namespace | None = None
    start: date
    stop: date
    metrics: list[Metric] = Field(min_length=1)
    guardrails: Guardrails
    #: users per arm before a decision may be taken
    min_sample_size: int = Field(gt=0)
    #: decide on always-valid p-values (peeking allowed) instead of fixed-horizon ones
    sequential: bool = False
    #: a canary: two arms (control = the champions, candidate) and the candidate's share
    #: per stage; the stage's weights replace ``weights``
    rollout: Rollout | None = None

    @field_validator("arms")
    @classmethod
    def _arms(cls, arms: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        if len(arms) < 2:
            raise ValueError("an experiment needs at least two arms")
        families: set[str] | None = None
        for name, versions in arms.items():
            if not versions:
                raise ValueError(f"arm {name!r} names no model version")
            for family, version in versions.items():
                if family not in FAMILIES:
                    raise ValueError(
                        f"arm {name!r}: unknown family {family!r} (known: {', '.join(FAMILIES)})"
                    )
                if isinstance(version, bool) or version < 1:
                    raise ValueError(f"arm {name!r}: {family} version must be a positive integer")
            if families is not None and set(versions) != families:
                raise ValueError(f"arm {name!r} must set the same families as the other arms")
            families = set(versions)
        return arms

    @model_validator(mode="after")
    def _consistent(self) -> ExperimentSpec:
        if not self.salt:
            object.__setattr__(self, "salt", self.key)
        if not self.weights:
            object.__setattr__(self, "weights", {arm: 1 / len(self.arms) for arm in self.arms})
        if list(self.weights) != list(self.arms):
            raise _FieldError(
                "weights",
                f"must list the arms in their order ({', '.join(self.arms)}), "
                f"got {', '.join(self.weights)}",
            )
        if any(w < 0 or not math.isfinite(w) for w in self.weights.values()):
            raise _FieldError("weights", "must be finite and non-negative")
        total = sum(self.weights.values())
        if abs(total - 1) > WEIGHT_SUM_TOLERANCE:
            raise _FieldError("weights", f"must sum to 1, they sum to {total:g}")
        if self.stop <= self.start:
            raise _FieldError("stop", f"{self.stop} must be after start {self.start}")
        if self.rollout is not None:
            if len(self.arms) != 2:
                raise _FieldError("rollout", "a rollout needs exactly two arms: control, candidate")
            # With coverage below 1 a growing share would move some candidates out again.
            if self.coverage != 1:
                raise _FieldError("rollout", "a rollout needs coverage 1 (the step is the share)")
        return self

    @property
    def control(self) -> str:
        """The first arm, which the others are compared with."""
        return self.arm_names[0]

    def mixing_tau2(self) -> float | None:
        """The variance of the mSPRT's mixing distribution: the square of the canary's
        non-inferiority margin when it has one (the effects it must resolve are of that
        order), else None (:func:`experiments.stats.msprt`'s default)."""
        margin = self.rollout.non_inferiority_margin if self.rollout else None
        return margin**2 if margin is not None else None

    def weights_at(self, stage: int) -> dict[str, float]:
        """The arms' weights at rollout ``stage`` (``[1 - share, share]``); without a rollout,
        the spec's weights. Bucket ranges of growing shares only move users from the control
        to the candidate."""
        if self.rollout is None:
            return dict(self.weights)
        share = self.rollout.steps[min(stage, len(self.rollout.steps) - 1)]
        control, candidate = self.arm_names
        return {control: 1 - share, candidate: share}

    @property
    def arm_names(self) -> list[str]:
        return list(self.arms)

    def running_on(self, day: date) -> bool:
        """Whether ``day`` is within ``[start, stop)``."""
        return self.start <= day < self.stop


def _describe(error: Any) -> str:
    """``<field>: <reason>`` of one pydantic error."""
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, _FieldError):
        loc = (*error["loc"], cause.field)
        reason = str(cause)
    else:
        loc, reason = error["loc"], error["msg"].removeprefix("Value error, ")
    return f"{'.'.join(str(part) for part in loc) or '(spec)'}: {reason}"


def parse_spec(data: Any, source: str) -> ExperimentSpec:
    """The validated spec of ``data`` (a YAML document); ``source`` names it in errors."""
    if not isinstance(data, dict):
        raise InputError(f"{source}: (spec): must be a mapping, got {type(data).__name__}")
    try:
        return ExperimentSpec.model_validate(data)
    except ValidationError as error:
        reasons = "; ".join(_describe(e) for e in error.errors())
        raise InputError(f"{source}: {reasons}") from None


def load_spec(path: Path) -> ExperimentSpec:
    """The spec in ``path``, whose file name must be ``<key>.yaml``."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise InputError(f"{path}: (spec): cannot read: {error}") from None
    spec = parse_spec(data, str(path))
    if path.stem != spec.key:
        raise InputError(f"{path}: key: {spec.key!r} must match the file name {path.stem!r}")
    return spec


def generated_specs_dir(settings: Settings) -> Path:
    """Where the platform writes the specs it starts by itself (the retraining loop's
    canaries): ``<home>/experiments/specs``."""
    return Path(settings.home) / "experiments" / "specs"


def spec_dirs(settings: Settings, specs_dir: SpecsDirs | None = None) -> tuple[Path, ...]:
    """``specs_dir`` as a tuple; None: the reviewed specs and the generated ones."""
    if specs_dir is None:
        return (SPECS_DIR, generated_specs_dir(settings))
    if isinstance(specs_dir, str | Path):
        return (Path(specs_dir),)
    return tuple(Path(d) for d in specs_dir)


def load_specs(directories: SpecsDirs = SPECS_DIR) -> dict[str, ExperimentSpec]:
    """Every ``*.yaml`` spec in ``directories`` by key; a key found twice and overlapping
    namespace slices are refused."""
    dirs = (directories,) if isinstance(directories, str | Path) else directories
    paths = [path for directory in dirs for path in sorted(Path(directory).glob("*.yaml"))]
    specs: dict[str, ExperimentSpec] = {}
    for path in paths:
        spec = load_spec(path)
        if spec.key in specs:
            raise InputError(f"{path}: key: experiment {spec.key!r} is defined twice")
        for other in specs.values():
            if _overlap(spec.namespace, other.namespace):
                raise InputError(
                    f"{path}: namespace: slice overlaps experiment {other.key!r} "
                    f"in namespace {spec.namespace.id!r}"  # type: ignore[union-attr]
                )
        specs[spec.key] = spec
    return specs


def _overlap(a: Namespace | None, b: Namespace | None) -> bool:
    return a is not None and b is not None and a.id == b.id and a.start < b.end and b.start < a.end
