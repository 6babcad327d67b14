"""The Kubeflow pipeline (deploy/kfp/): the checked-in YAML is what compile.py makes now,
its DAG is data -> train -> evaluate -> register per family on the training image, and every
``voiceops models`` step it runs exists with the options it passes."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from training.families import FAMILIES
from tuning.render import default_image

pytest.importorskip("kfp", reason="kfp is the `kfp` extra: pip install -e '.[kfp]'")

ROOT = Path(__file__).resolve().parents[2]
KFP_DIR = ROOT / "deploy" / "kfp"


def _compile_module() -> Any:
    spec = importlib.util.spec_from_file_location("voiceops_kfp_compile", KFP_DIR / "compile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> str:
    output = tmp_path_factory.mktemp("kfp") / "pipeline.yaml"
    return _compile_module().compile_pipeline(output).read_text()


@pytest.fixture(scope="module")
def pipeline(compiled: str) -> dict[str, Any]:
    return yaml.safe_load(compiled)


def _executors(pipeline: dict[str, Any]) -> dict[str, dict[str, Any]]:
    executors = pipeline["deploymentSpec"]["executors"]
    return {name.removeprefix("exec-"): spec["container"] for name, spec in executors.items()}


def test_checked_in_pipeline_is_what_compile_makes_now(compiled: str) -> None:
    checked_in = (KFP_DIR / "voiceops_pipeline.yaml").read_text()
    assert compiled == checked_in, "stale deploy/kfp/voiceops_pipeline.yaml: run compile.py"


def test_dag_is_data_train_evaluate_register_per_family(pipeline: dict[str, Any]) -> None:
    tasks = pipeline["root"]["dag"]["tasks"]
    expected = {"data"} | {
        f"{step}-{name}" for name in FAMILIES for step in ("train", "evaluate", "register")
    }
    assert set(tasks) == expected
    assert sum(name.startswith("train-") for name in tasks) == 4
    for name, family in FAMILIES.items():
        train = set(tasks[f"train-{name}"]["dependentTasks"])
        assert train == {"data", *(f"train-{used}" for used in family.uses_models)}
        assert f"train-{name}" in tasks[f"evaluate-{name}"]["dependentTasks"]
        assert f"evaluate-{name}" in tasks[f"register-{name}"]["dependentTasks"]
        evaluation = tasks[f"register-{name}"]["inputs"]["artifacts"]["evaluation"]
        assert evaluation["taskOutputArtifact"]["producerTask"] == f"evaluate-{name}"
        commit = tasks[f"train-{name}"]["inputs"]["parameters"]["lake_commit"]
        assert commit["taskOutputParameter"] == {
            "outputParameterKey": "lake_commit",
            "producerTask": "data",
        }
    # TTS is trained, scored and gated with the STT model of the same run
    for step in ("train", "evaluate", "register"):
        stt_model = tasks[f"{step}-tts"]["inputs"]["artifacts"]["stt_model"]
        assert stt_model["taskOutputArtifact"] == {
            "outputArtifactKey": "model",
            "producerTask": "train-stt",
        }, step
    assert set(pipeline["root"]["inputDefinitions"]["parameters"]) == {"lake_commit", "size"}


def test_every_task_runs_a_voiceops_step_on_the_training_image(pipeline: dict) -> None:
    executors = _executors(pipeline)
    assert len(executors) == 1 + 3 * len(FAMILIES)
    for name, container in executors.items():
        assert container["image"] == default_image()
        verb = name.split("-")[0]
        assert container["command"] == ["voiceops", "models", verb]
    for name in FAMILIES:
        args = executors[f"train-{name}"]["args"]
        assert args[0] == name
        assert args[args.index("--size") + 1] == "{{$.inputs.parameters['size']}}"
        resources = executors[f"train-{name}"]["resources"]
        assert resources["cpuRequest"] > 0 and resources["memoryRequest"] > 0


def test_the_steps_and_options_the_pipeline_passes_exist(pipeline: dict) -> None:
    """Every ``voiceops models VERB --option`` in the YAML is a real command and option."""
    from typer.main import get_command

    from voiceops.cli.models import models_app

    group = get_command(models_app)
    for container in _executors(pipeline).values():
        verb = container["command"][-1]
        command = group.commands[verb]
        known = {opt for param in command.params for opt in getattr(param, "opts", [])}
        passed = {arg for arg in container["args"] if re.fullmatch(r"--[a-z-]+", arg)}
        assert passed <= known, f"{verb}: unknown options {passed - known}"


def test_image_override_reaches_every_task(tmp_path: Path) -> None:
    image = "ghcr.io/example/voiceops/training:abc123"
    output = _compile_module().compile_pipeline(tmp_path / "p.yaml", image)
    containers = _executors(yaml.safe_load(output.read_text())).values()
    assert {container["image"] for container in containers} == {image}


def test_katib_trials_and_pipeline_tasks_run_the_same_training_image(pipeline: dict) -> None:
    from tuning.load import load_tuning_spec
    from tuning.render import render

    manifest = render(
        load_tuning_spec(ROOT / "tuning" / "specs" / "nlu-random.yaml"), commit="c0ffee"
    )
    trial = manifest["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]
    images = {container["image"] for container in trial["containers"]}
    assert images == {container["image"] for container in _executors(pipeline).values()}
    dockerfile = (ROOT / "deploy" / "docker" / "Dockerfile").read_text()
    assert re.search(r"^FROM \S+ AS training$", dockerfile, re.MULTILINE)
