"""Katib parameters as Optuna distributions (as Katib's own Optuna suggestion service maps
them), and the grid of a grid search."""

from __future__ import annotations

from typing import Any

import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from tuning.spec import FieldError, Parameter


def distribution(parameter: Parameter) -> BaseDistribution:
    """The Optuna distribution of a Katib parameter (uniform or log-uniform, stepped when
    the feasible space has a step; categorical and discrete as categorical choices)."""
    space = parameter.feasibleSpace
    log = space.distribution == "logUniform"
    if parameter.parameterType == "int":
        step = int(float(space.step)) if space.step and not log else 1
        return IntDistribution(int(float(space.low)), int(float(space.high)), log=log, step=step)
    if parameter.parameterType == "double":
        step = float(space.step) if space.step and not log else None
        return FloatDistribution(float(space.low), float(space.high), log=log, step=step)
    return CategoricalDistribution(choices(parameter))


def choices(parameter: Parameter) -> list[Any]:
    """The values of a categorical (strings) or discrete (numbers) parameter."""
    values = parameter.feasibleSpace.values or []
    if parameter.parameterType == "categorical":
        return list(values)
    return [int(float(v)) if float(v).is_integer() and "." not in v else float(v) for v in values]


def grid(parameters: list[Parameter]) -> dict[str, list[Any]]:
    """Every value of every parameter, as Katib's grid: ``min..max`` by ``step`` (a double
    parameter needs a step), the list of the others."""
    values: dict[str, list[Any]] = {}
    for i, parameter in enumerate(parameters):
        space = parameter.feasibleSpace
        if parameter.parameterType == "int":
            step = int(float(space.step or "1"))
            low, high = int(float(space.low)), int(float(space.high))
            values[parameter.name] = list(range(low, high + 1, step))
        elif parameter.parameterType == "double":
            if not space.step:
                raise FieldError(
                    f"spec.parameters[{i}].feasibleSpace.step", "grid needs a step for double"
                )
            low, high, step = float(space.low), float(space.high), float(space.step)
            points = np.arange(low, high + step, step)
            values[parameter.name] = [float(p) for p in points if p <= high + 1e-12]
        else:
            values[parameter.name] = choices(parameter)
    return values


def grid_size(parameters: list[Parameter]) -> int:
    """How many trials the grid holds."""
    return int(np.prod([len(v) for v in grid(parameters).values()]))


def suggest(trial: Any, parameter: Parameter) -> Any:
    """The trial's value of ``parameter``, sampled from its distribution."""
    dist = distribution(parameter)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(parameter.name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(
            parameter.name, dist.low, dist.high, step=dist.step, log=dist.log
        )
    return trial.suggest_categorical(parameter.name, dist.choices)
