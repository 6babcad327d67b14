"""Katib manifests: what is accepted, and errors that name the file, the field and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import InputError
from tuning.algorithms import pruner, sampler
from tuning.load import load_tuning_spec, parse_tuning_spec
from tuning.space import grid, grid_size

ROOT = Path(__file__).resolve().parents[2]


def _error(data: dict) -> str:
    with pytest.raises(InputError) as raised:
        parse_tuning_spec(data, "specs/x.yaml")
    return str(raised.value)


def test_the_example_spec_loads_with_its_family_and_field_mapping():
    spec = load_tuning_spec(ROOT / "tuning/specs/nlu-random.yaml")
    assert spec.family == "nlu"
    assert spec.command.size == "demo"
    assert spec.command.tuned == {
        "learning_rate": "lr",
        "dropout": "dropout",
        "encoder_units": "units",
        "batch_size": "batch",
    }
    values = {"lr": 0.002, "dropout": 0.25, "units": 96, "batch": 32}
    assert spec.command.sets(values) == [
        "learning_rate=0.002",
        "dropout=0.25",
        "encoder_units=96",
        "batch_size=32",
    ]
    assert spec.body.objective.strategy("val_intent_accuracy") == "max"  # Katib's default
    assert spec.body.objective.strategy("validation_slot_f1_all") == "max"
    assert spec.body.objective.strategy("val_loss") == "min"  # the spec's metricStrategies


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (lambda s: s["spec"].pop("objective"), "spec.objective", "Field required"),
        (
            lambda s: s["spec"]["objective"].update(type="biggest"),
            "spec.objective.type",
            "'minimize' or 'maximize'",
        ),
        (
            lambda s: s["spec"]["parameters"][0]["feasibleSpace"].update(min=0.001),
            "spec.parameters[0].feasibleSpace.min",
            "quoted string",
        ),
        (
            lambda s: s["spec"]["parameters"][0]["feasibleSpace"].update(min="0.5", max="0.1"),
            "spec.parameters[0].feasibleSpace.min",
            "above max",
        ),
        (
            lambda s: s["spec"]["parameters"][1].update(parameterType="float"),
            "spec.parameters[1].parameterType",
            "'double'",
        ),
        (
            lambda s: s["spec"]["parameters"][0]["feasibleSpace"].update(distribution="normal"),
            "spec.parameters[0].feasibleSpace.distribution",
            "not supported",
        ),
        (lambda s: s["spec"].update(maxTrialCont=3), "spec.maxTrialCont", "unknown field"),
        (lambda s: s["spec"].update(maxFailedTrialCount=9), "spec.maxFailedTrialCount", "exceed"),
        (lambda s: s["metadata"].update(name="Bad_Name"), "metadata.name", "pattern"),
        (
            lambda s: s["spec"]["trialTemplate"]["trialParameters"][0].update(reference="nope"),
            "spec.trialTemplate.trialParameters[0].reference",
            "not in spec.parameters",
        ),
    ],
)
def test_validation_errors_name_the_file_and_the_field(spec_dict, change, field, reason):
    data = spec_dict()
    change(data)
    message = _error(data)
    assert message.startswith("specs/x.yaml: ")
    assert f"{field}: " in message
    assert reason in message


def _command(data: dict) -> list[str]:
    return data["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0][
        "command"
    ]


def test_the_trial_command_must_set_existing_config_fields(spec_dict):
    data = spec_dict()
    command = _command(data)
    at = command.index("dropout=${trialParameters.dropout}")
    command[at] = "droput=${trialParameters.dropout}"
    message = _error(data)
    assert "spec.trialTemplate.trialSpec.spec.template.spec.containers[0].command" in message
    assert "has no field 'droput'" in message


def test_every_parameter_must_set_a_field_and_every_placeholder_must_be_declared(spec_dict):
    data = spec_dict()
    command = _command(data)
    del command[-2:]  # dropout is no longer set by the command
    message = _error(data)
    assert "spec.trialTemplate.trialParameters[1].name: 'dropout' is not used" in message

    data = spec_dict()
    _command(data).extend(["--set", "encoder_units=${trialParameters.units}"])
    assert "${trialParameters.units} is not in trialParameters" in _error(data)


def test_a_double_parameter_cannot_set_an_int_field(spec_dict):
    units = {"name": "units", "parameterType": "double", "feasibleSpace": {"min": "8", "max": "32"}}
    message = _error(spec_dict(parameters=[units]))
    assert "spec.parameters[0].parameterType: double, but config field encoder_units is int" in (
        message
    )


@pytest.mark.parametrize("algorithm", ["hyperband", "pbt", "enas", "darts"])
def test_unsupported_algorithms_are_refused_naming_the_field(spec_dict, algorithm):
    data = spec_dict(algorithm=algorithm)
    data["spec"]["algorithm"]["algorithmSettings"] = []
    message = _error(data)
    assert f"spec.algorithm.algorithmName: {algorithm} is not supported" in message


def test_unknown_algorithms_and_settings_are_refused(spec_dict):
    assert "unknown algorithm 'annealing'" in _error(spec_dict(algorithm="annealing"))
    data = spec_dict(algorithm="tpe")
    data["spec"]["algorithm"]["algorithmSettings"] = [{"name": "acq_func", "value": "ei"}]
    assert "spec.algorithm.algorithmSettings[0].name: unknown setting 'acq_func'" in _error(data)
    data = spec_dict(early_stopping={"min_trials": "2"})
    assert "spec.earlyStopping.algorithmSettings[0].name" in _error(data)


def test_katib_algorithms_map_to_optuna_samplers(spec_dict):
    expected = {
        "random": "RandomSampler",
        "tpe": "TPESampler",
        "multivariate-tpe": "TPESampler",
        "bayesianoptimization": "TPESampler",
        "cmaes": "CmaEsSampler",
        "sobol": "QMCSampler",
    }
    for algorithm, name in expected.items():
        spec = parse_tuning_spec(spec_dict(algorithm=algorithm), "x.yaml")
        assert type(sampler(spec.body)).__name__ == name
    early = spec_dict(early_stopping={"min_trials_required": "2", "start_step": "3"})
    median = pruner(parse_tuning_spec(early, "x.yaml").body)
    assert type(median).__name__ == "MedianPruner"
    assert (median._n_startup_trials, median._n_warmup_steps) == (2, 3)


def test_grid_needs_a_step_for_doubles_and_lists_every_point(spec_dict):
    message = _error(spec_dict(algorithm="grid"))
    assert "spec.parameters[0].feasibleSpace.step: grid needs a step" in message
    parameters = [
        {
            "name": "lr",
            "parameterType": "double",
            "feasibleSpace": {"min": "0.01", "max": "0.03", "step": "0.01"},
        },
        {
            "name": "units",
            "parameterType": "int",
            "feasibleSpace": {"min": "8", "max": "16", "step": "8"},
        },
        {
            "name": "encoder",
            "parameterType": "categorical",
            "feasibleSpace": {"list": ["conv", "bigru"]},
        },
    ]
    spec = parse_tuning_spec(spec_dict(algorithm="grid", parameters=parameters), "x.yaml")
    points = grid(spec.body.parameters)
    assert points["lr"] == pytest.approx([0.01, 0.02, 0.03])
    assert points["units"] == [8, 16]
    assert points["encoder"] == ["conv", "bigru"]
    assert grid_size(spec.body.parameters) == 12


def test_the_cli_reports_a_bad_spec_in_one_line_naming_file_and_field(tmp_path, spec_dict):
    import subprocess
    import sys

    import yaml

    data = spec_dict()
    data["spec"]["parallelTrialCount"] = 0
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    done = subprocess.run(
        [sys.executable, "-m", "voiceops.cli", "tune", "--workers", "2", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: {path}: spec.parallelTrialCount: Input should be greater than 0"
    )
