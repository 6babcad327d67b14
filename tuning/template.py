"""The trial template: which family a trial trains and which config fields the parameters set.

The spec's ``trialTemplate.trialSpec`` is a ``batch/v1`` Job whose primary container runs the
trial entry point, e.g. ``voiceops tune trial nlu --size demo --set
learning_rate=${trialParameters.learningRate}``. A cluster substitutes the trial parameters
and runs it; the local runner reads the same command: the family, the preset, and for each
``--set FIELD=VALUE`` either a fixed value or the Katib parameter it takes (through the
trial parameter's ``reference``). One source, so both run the same trials.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from tuning.spec import FieldError, KatibExperiment

#: The words that start the trial entry point in the container's command + args.
ENTRY = ("tune", "trial")
PLACEHOLDER = re.compile(r"\$\{trialParameters\.([^}]+)\}")
META = re.compile(r"\$\{trialSpec\.[^}]+\}")
TEMPLATE = "spec.trialTemplate"


@dataclass(frozen=True)
class TrialCommand:
    """What every trial runs: a family, a preset, fixed and tuned config fields."""

    family: str
    size: str
    fixed: dict[str, str]  # config field -> value on every trial
    tuned: dict[str, str]  # config field -> Katib parameter name
    container_index: int
    argv: list[str]

    def sets(self, values: dict[str, Any]) -> list[str]:
        """The ``--set FIELD=VALUE`` items of a trial with parameter ``values``, as the
        cluster's substitution writes them."""
        items = [f"{field}={value}" for field, value in self.fixed.items()]
        items += [f"{field}={format_value(values[name])}" for field, name in self.tuned.items()]
        return items


def format_value(value: Any) -> str:
    """A parameter value as Katib substitutes it into the command (``repr`` of a float
    keeps every digit)."""
    return repr(value) if isinstance(value, float) else str(value)


def _containers(trial_spec: dict[str, Any]) -> list[dict[str, Any]]:
    if trial_spec.get("apiVersion") != "batch/v1" or trial_spec.get("kind") != "Job":
        raise FieldError(
            f"{TEMPLATE}.trialSpec", "the local runner reads a batch/v1 Job (apiVersion, kind)"
        )
    if trial_spec.get("metadata", {}).get("name") or trial_spec.get("metadata", {}).get(
        "namespace"
    ):
        raise FieldError(f"{TEMPLATE}.trialSpec.metadata", "name and namespace must be omitted")
    try:
        containers = trial_spec["spec"]["template"]["spec"]["containers"]
    except (KeyError, TypeError):
        containers = None
    if not isinstance(containers, list) or not containers:
        raise FieldError(f"{TEMPLATE}.trialSpec.spec.template.spec.containers", "required")
    return containers


def _placeholders(value: Any) -> set[str]:
    """Every ``${trialParameters.x}`` name anywhere in a nested value."""
    if isinstance(value, dict):
        return set().union(*(_placeholders(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_placeholders(v) for v in value))
    return set(PLACEHOLDER.findall(value)) if isinstance(value, str) else set()


def trial_command(
    experiment: KatibExperiment, config_fields: dict[str, dict[str, Any]]
) -> TrialCommand:
    """The :class:`TrialCommand` of the manifest; ``config_fields`` is family -> its config
    fields' types (``{"learning_rate": "float", ...}``)."""
    template = experiment.spec.trialTemplate
    containers = _containers(template.trialSpec)
    index = next(
        (i for i, c in enumerate(containers) if c.get("name") == template.primaryContainerName),
        None,
    )
    if index is None:
        raise FieldError(
            f"{TEMPLATE}.primaryContainerName",
            f"no container named {template.primaryContainerName!r} in the trialSpec",
        )
    container = containers[index]
    argv = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
    where = f"{TEMPLATE}.trialSpec.spec.template.spec.containers[{index}].command"
    used = _placeholders(template.trialSpec)
    declared = {p.name: p.reference for p in template.trialParameters}
    for name in sorted(used - set(declared)):
        raise FieldError(where, f"${{trialParameters.{name}}} is not in trialParameters")
    for i, parameter in enumerate(template.trialParameters):
        if parameter.name not in used:
            raise FieldError(
                f"{TEMPLATE}.trialParameters[{i}].name",
                f"{parameter.name!r} is not used in the trialSpec",
            )
    starts = [i for i in range(len(argv) - 2) if tuple(argv[i : i + 2]) == ENTRY]
    if not starts:
        raise FieldError(where, "must run the trial entry point: `voiceops tune trial FAMILY ...`")
    family = argv[starts[0] + 2]
    if family not in config_fields:
        raise FieldError(where, f"unknown family {family!r} (known: {', '.join(config_fields)})")
    fields = config_fields[family]
    size, fixed, tuned = "demo", {}, {}
    rest = argv[starts[0] + 3 :]
    while rest:
        option, rest = rest[0], rest[1:]
        if "=" in option and option.startswith("--"):
            option, _, value = option.partition("=")
        elif rest:
            value, rest = rest[0], rest[1:]
        else:
            raise FieldError(where, f"{option} needs a value")
        if option == "--size":
            if value not in ("tiny", "demo"):
                raise FieldError(where, f"--size {value}: must be tiny or demo")
            size = value
        elif option == "--commit":
            continue  # the runner pins every trial to one commit itself
        elif option == "--set":
            field, sep, setting = value.partition("=")
            if not sep or field not in fields:
                raise FieldError(
                    where, f"--set {value}: the {family} config has no field {field!r}"
                )
            match = PLACEHOLDER.fullmatch(setting)
            if match:
                tuned[field] = declared[match.group(1)]
            elif PLACEHOLDER.search(setting) or META.search(setting):
                raise FieldError(where, f"--set {value}: a parameter must be the whole value")
            else:
                fixed[field] = setting
        else:
            raise FieldError(where, f"unknown option {option!r} of the trial entry point")
    _check_coverage(experiment, tuned, fields)
    return TrialCommand(family, size, fixed, tuned, index, argv)


def _check_coverage(
    experiment: KatibExperiment, tuned: dict[str, str], fields: dict[str, Any]
) -> None:
    """Every parameter sets exactly one config field, of a type its values fit."""
    for i, parameter in enumerate(experiment.spec.parameters):
        targets = [field for field, name in tuned.items() if name == parameter.name]
        if len(targets) != 1:
            raise FieldError(
                f"spec.parameters[{i}]",
                f"{parameter.name!r} must set exactly one --set field of the trial "
                f"command (sets {len(targets)})",
            )
        field_type = fields[targets[0]]
        if parameter.parameterType == "double" and field_type != "float":
            raise FieldError(
                f"spec.parameters[{i}].parameterType",
                f"double, but config field {targets[0]} is {field_type}",
            )
        if parameter.parameterType == "int" and field_type not in ("int", "float"):
            raise FieldError(
                f"spec.parameters[{i}].parameterType",
                f"int, but config field {targets[0]} is {field_type}",
            )


def config_field_types(config_class: type) -> dict[str, str]:
    """Field name -> its type's name (as ``TrainConfig.preset`` casts ``--set`` values)."""
    return {f.name: str(f.type) for f in dataclasses.fields(config_class)}
