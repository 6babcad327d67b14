"""Katib's algorithm and early-stopping names as Optuna samplers and pruners.

For ``random``, ``grid``, ``tpe``, ``multivariate-tpe`` and ``cmaes`` the mapping and the
settings are those of Katib's own Optuna suggestion service, so a spec explores the same
way locally and on a cluster. ``sobol`` is Optuna's quasi-Monte Carlo sampler.
``bayesianoptimization`` (scikit-optimize's Gaussian process on a cluster) runs here as
multivariate TPE: Optuna's ``GPSampler`` needs PyTorch, and TPE is the Bayesian
optimisation (a sequential model of the objective guiding each suggestion) Optuna has
without it. The others are refused: hyperband needs resource-budgeted trials, pbt mutates
running trials, enas and darts search architectures, not hyperparameters.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import optuna

from tuning.space import grid
from tuning.spec import ExperimentBody, FieldError

ALGORITHM = "spec.algorithm"

#: algorithm -> Katib setting -> (Optuna sampler argument, cast)
SETTINGS: dict[str, dict[str, tuple[str, Callable[[str], Any]]]] = {
    "random": {"random_state": ("seed", int)},
    "grid": {"random_state": ("seed", int)},
    "tpe": {
        "random_state": ("seed", int),
        "n_startup_trials": ("n_startup_trials", int),
        "n_ei_candidates": ("n_ei_candidates", int),
    },
    "cmaes": {
        "random_state": ("seed", int),
        "sigma": ("sigma0", float),
        "restart_strategy": ("restart_strategy", lambda v: None if v.lower() == "none" else v),
    },
    "sobol": {"random_state": ("seed", int)},
    "bayesianoptimization": {
        "random_state": ("seed", int),
        "n_initial_points": ("n_startup_trials", int),
    },
}
SETTINGS["multivariate-tpe"] = SETTINGS["tpe"]

REFUSED = {
    "hyperband": "it allocates a resource budget per trial bracket, which Optuna's samplers "
    "do not (use earlyStopping medianstop to stop poor trials early)",
    "pbt": "population based training mutates running trials; Optuna has no equivalent",
    "enas": "it searches neural architectures (nasConfig), not hyperparameters",
    "darts": "it searches neural architectures (nasConfig), not hyperparameters",
}

EARLY_STOPPING = {"min_trials_required": 3, "start_step": 4}  # Katib's medianstop defaults


def _settings(body: ExperimentBody) -> dict[str, Any]:
    name = body.algorithm.algorithmName
    known = SETTINGS[name]
    arguments: dict[str, Any] = {}
    for i, setting in enumerate(body.algorithm.algorithmSettings):
        where = f"{ALGORITHM}.algorithmSettings[{i}]"
        if setting.name not in known:
            raise FieldError(
                f"{where}.name",
                f"unknown setting {setting.name!r} for {name} (known: {', '.join(known)})",
            )
        argument, cast = known[setting.name]
        try:
            arguments[argument] = cast(setting.value)
        except ValueError:
            raise FieldError(f"{where}.value", f"{setting.value!r} is not valid") from None
    return arguments


def check_algorithm(body: ExperimentBody) -> None:
    """Refuse an algorithm, or settings of it, the local runner cannot honour."""
    name = body.algorithm.algorithmName
    if name in REFUSED:
        raise FieldError(f"{ALGORITHM}.algorithmName", f"{name} is not supported: {REFUSED[name]}")
    if name not in SETTINGS:
        raise FieldError(
            f"{ALGORITHM}.algorithmName",
            f"unknown algorithm {name!r} (supported: {', '.join(SETTINGS)})",
        )
    _settings(body)
    if name == "cmaes" and sum(p.parameterType in ("double", "int") for p in body.parameters) < 2:
        raise FieldError(
            f"{ALGORITHM}.algorithmName", "cmaes needs two or more double or int parameters"
        )
    if name == "grid":
        grid(body.parameters)
    if body.earlyStopping is not None:
        pruner(body)


def sampler(body: ExperimentBody) -> optuna.samplers.BaseSampler:
    """The Optuna sampler of the spec's algorithm (see the module docstring)."""
    check_algorithm(body)
    with warnings.catch_warnings():  # constant_liar, multivariate, QMC: "experimental"
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return _sampler(body)


def _sampler(body: ExperimentBody) -> optuna.samplers.BaseSampler:
    name, arguments = body.algorithm.algorithmName, _settings(body)
    if name == "random":
        return optuna.samplers.RandomSampler(**arguments)
    if name == "grid":
        return optuna.samplers.GridSampler(grid(body.parameters), **arguments)
    if name in ("tpe", "multivariate-tpe", "bayesianoptimization"):
        multivariate = name != "tpe"
        # constant_liar: parallel trials are not suggested the same point (Katib sets it too)
        return optuna.samplers.TPESampler(
            multivariate=multivariate, constant_liar=True, **arguments
        )
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(**arguments)
    return optuna.samplers.QMCSampler(qmc_type="sobol", scramble=True, **arguments)


def pruner(body: ExperimentBody) -> optuna.pruners.BasePruner:
    """``medianstop`` as Optuna's median pruner (none without early stopping): a trial stops
    once, from epoch ``start_step`` on, its objective is worse than the median of the
    completed trials' at the same epoch, when ``min_trials_required`` trials have
    completed."""
    spec = body.earlyStopping
    if spec is None:
        return optuna.pruners.NopPruner()
    where = "spec.earlyStopping"
    if spec.algorithmName != "medianstop":
        raise FieldError(
            f"{where}.algorithmName", f"{spec.algorithmName!r} is not supported (medianstop is)"
        )
    values = dict(EARLY_STOPPING)
    for i, setting in enumerate(spec.algorithmSettings):
        if setting.name not in values:
            raise FieldError(
                f"{where}.algorithmSettings[{i}].name",
                f"unknown medianstop setting {setting.name!r} (known: {', '.join(values)})",
            )
        try:
            values[setting.name] = int(setting.value)
        except ValueError:
            raise FieldError(
                f"{where}.algorithmSettings[{i}].value", "must be an integer"
            ) from None
        if values[setting.name] < 1:
            raise FieldError(f"{where}.algorithmSettings[{i}].value", "must be at least 1")
    return optuna.pruners.MedianPruner(
        n_startup_trials=values["min_trials_required"],
        n_warmup_steps=values["start_step"],
        n_min_trials=values["min_trials_required"],
    )
