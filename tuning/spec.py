"""Katib ``Experiment`` manifests (``kubeflow.org/v1beta1``) as typed, validated specs.

Field names are Katib's (camelCase) so that a spec is the manifest a cluster takes; the
checks are those of Katib's admission webhook (names, counts, objective, parameters, trial
parameters) plus what the local runner needs. Every problem is an
:class:`~core.errors.InputError` naming the file, the field path
(``spec.parameters[0].feasibleSpace.min``) and the reason.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from core.errors import InputError

API_VERSION = "kubeflow.org/v1beta1"
#: Katib's webhook: lower-case alphanumerics and '-', a letter first, at most 40 characters.
NAME_PATTERN = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
NAME_MAX = 40


class FieldError(ValueError):
    """A whole-spec check's failure that belongs to one field (named in the error)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


def _katib_string(value: Any) -> Any:
    """Katib types feasible-space bounds and setting values as strings: a bare YAML number
    would not decode into the cluster's Go types, so it is refused here too."""
    if isinstance(value, bool | int | float):
        raise ValueError(f"must be a quoted string as Katib types it (write {str(value)!r})")
    return value


KatibString = Annotated[str, BeforeValidator(_katib_string)]


class _Katib(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Setting(_Katib):
    """A ``{name, value}`` pair of an algorithm's or early stopping's settings."""

    name: str = Field(min_length=1)
    value: KatibString


class MetricStrategy(_Katib):
    name: str = Field(min_length=1)
    value: Literal["min", "max", "latest"]


class Objective(_Katib):
    type: Literal["minimize", "maximize"]
    goal: float | None = None
    objectiveMetricName: str = Field(min_length=1)
    additionalMetricNames: list[str] = Field(default_factory=list)
    metricStrategies: list[MetricStrategy] = Field(default_factory=list)

    @model_validator(mode="after")
    def _metrics(self) -> Objective:
        if self.objectiveMetricName in self.additionalMetricNames:
            raise FieldError("additionalMetricNames", "must not contain objectiveMetricName")
        known = {self.objectiveMetricName, *self.additionalMetricNames}
        for i, strategy in enumerate(self.metricStrategies):
            if strategy.name not in known:
                raise FieldError(f"metricStrategies[{i}].name", f"{strategy.name!r} is no metric")
        return self

    @property
    def metric_names(self) -> list[str]:
        return [self.objectiveMetricName, *self.additionalMetricNames]

    def strategy(self, metric: str) -> str:
        """How a trial's value of ``metric`` is taken from its reports (Katib's defaulter:
        the best for the objective's direction unless the spec says otherwise)."""
        for strategy in self.metricStrategies:
            if strategy.name == metric:
                return strategy.value
        return "min" if self.type == "minimize" else "max"


class Algorithm(_Katib):
    algorithmName: str = Field(min_length=1)
    algorithmSettings: list[Setting] = Field(default_factory=list)


class FeasibleSpace(_Katib):
    # Katib's names (min, max, list) would shadow builtins in the class body: aliased
    low: KatibString | None = Field(default=None, alias="min")
    high: KatibString | None = Field(default=None, alias="max")
    step: KatibString | None = None
    values: list[KatibString] | None = Field(default=None, alias="list")
    distribution: Literal["uniform", "logUniform", "normal", "logNormal"] | None = None


def _number(text: str | None, field: str) -> float:
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FieldError(field, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise FieldError(field, f"{text!r} is not finite")
    return value


class Parameter(_Katib):
    name: str = Field(min_length=1)
    parameterType: Literal["double", "int", "categorical", "discrete"]
    feasibleSpace: FeasibleSpace

    @model_validator(mode="after")
    def _space(self) -> Parameter:
        space, kind = self.feasibleSpace, self.parameterType
        if kind in ("double", "int"):
            if space.values:
                raise FieldError("feasibleSpace.list", f"not supported for parameterType {kind}")
            if space.low is None or space.high is None:
                raise FieldError("feasibleSpace.max", f"min and max are required for {kind}")
            low = _number(space.low, "feasibleSpace.min")
            high = _number(space.high, "feasibleSpace.max")
            if low > high:
                raise FieldError("feasibleSpace.min", f"{space.low} is above max {space.high}")
            if kind == "int" and not all(v.is_integer() for v in (low, high)):
                raise FieldError("feasibleSpace.min", "int bounds must be integers")
            if space.step is not None and _number(space.step, "feasibleSpace.step") <= 0:
                raise FieldError("feasibleSpace.step", "must be positive")
            if space.distribution in ("normal", "logNormal"):
                raise FieldError(
                    "feasibleSpace.distribution",
                    f"{space.distribution} is not supported (Optuna samples uniform and "
                    "log-uniform spaces; Katib's Optuna service refuses it too)",
                )
            if space.distribution == "logUniform" and low <= 0:
                raise FieldError("feasibleSpace.min", "must be positive for logUniform")
        else:
            if space.low is not None or space.high is not None or space.step is not None:
                raise FieldError("feasibleSpace", f"min, max and step are not for {kind}")
            if not space.values:
                raise FieldError("feasibleSpace.list", f"a {kind} parameter needs a list")
            if kind == "discrete":
                for i, item in enumerate(space.values):
                    _number(item, f"feasibleSpace.list[{i}]")
        return self


class TrialParameter(_Katib):
    name: str = Field(min_length=1)
    reference: str = Field(min_length=1)
    description: str = ""

    @field_validator("name")
    @classmethod
    def _no_braces(cls, name: str) -> str:
        if "{" in name or "}" in name:
            raise ValueError("must not contain '{' or '}'")
        return name


class TrialTemplate(_Katib):
    primaryContainerName: str = Field(min_length=1)
    trialParameters: list[TrialParameter] = Field(min_length=1)
    trialSpec: dict[str, Any]
    successCondition: str | None = None
    failureCondition: str | None = None
    retain: bool | None = None
    primaryPodLabels: dict[str, str] | None = None

    @model_validator(mode="after")
    def _unique(self) -> TrialTemplate:
        for attribute in ("name", "reference"):
            seen: set[str] = set()
            for i, parameter in enumerate(self.trialParameters):
                value = getattr(parameter, attribute)
                if value in seen:
                    raise FieldError(f"trialParameters[{i}].{attribute}", f"{value!r} repeats")
                seen.add(value)
        return self


class ExperimentBody(_Katib):
    objective: Objective
    algorithm: Algorithm
    earlyStopping: Algorithm | None = None
    parameters: list[Parameter] = Field(min_length=1)
    parallelTrialCount: int = Field(default=3, gt=0)
    maxTrialCount: int | None = Field(default=None, gt=0)
    maxFailedTrialCount: int | None = Field(default=None, ge=0)
    trialTemplate: TrialTemplate
    metricsCollectorSpec: dict[str, Any] | None = None
    resumePolicy: Literal["Never", "LongRunning", "FromVolume"] | None = None

    @model_validator(mode="after")
    def _counts(self) -> ExperimentBody:
        names = [p.name for p in self.parameters]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise FieldError(f"parameters[{i}].name", f"{name!r} repeats")
        if self.maxTrialCount is not None:
            if (self.maxFailedTrialCount or 0) > self.maxTrialCount:
                raise FieldError("maxFailedTrialCount", "must not exceed maxTrialCount")
            if self.parallelTrialCount > self.maxTrialCount:
                raise FieldError("parallelTrialCount", "must not exceed maxTrialCount")
        for i, trial_parameter in enumerate(self.trialTemplate.trialParameters):
            if trial_parameter.reference not in names:
                raise FieldError(
                    f"trialTemplate.trialParameters[{i}].reference",
                    f"{trial_parameter.reference!r} is not in spec.parameters",
                )
        return self


class Metadata(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)  # labels, annotations, ...

    name: str = Field(pattern=NAME_PATTERN, max_length=NAME_MAX)
    namespace: str | None = None


class KatibExperiment(_Katib):
    apiVersion: Literal["kubeflow.org/v1beta1"]
    kind: Literal["Experiment"]
    metadata: Metadata
    spec: ExperimentBody

    @property
    def name(self) -> str:
        return self.metadata.name


def _path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "(manifest)"


def _describe(error: Any) -> str:
    """``<field path>: <reason>`` of one pydantic error."""
    cause = error.get("ctx", {}).get("error")
    loc = tuple(error["loc"])
    if isinstance(cause, FieldError):
        parts = [p for p in cause.field.replace("[", ".[").split(".") if p]
        loc = (*loc, *(int(p[1:-1]) if p.startswith("[") else p for p in parts))
        return f"{_path(loc)}: {cause}"
    reason = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        reason = "unknown field (not a Katib Experiment field the local runner supports)"
    return f"{_path(loc)}: {reason}"


def parse_experiment(data: Any, source: str) -> KatibExperiment:
    """The validated manifest of ``data`` (a YAML document); ``source`` names it in errors."""
    if not isinstance(data, dict):
        raise InputError(f"{source}: (manifest): must be a mapping, got {type(data).__name__}")
    try:
        return KatibExperiment.model_validate(data)
    except ValidationError as error:
        reasons = "; ".join(_describe(e) for e in error.errors())
        raise InputError(f"{source}: {reasons}") from None


def read_manifest(path: Path) -> dict[str, Any]:
    """The YAML document of ``path`` (an error names the file when it cannot be read)."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise InputError(f"{path}: (manifest): cannot read: {error}") from None
