"""The VoiceOps training pipeline for Kubeflow Pipelines: data at a lake commit -> train each
family -> evaluate -> register (MLflow + the registry gate).

Every task is a container component on the training image whose command is a
``voiceops models`` step (``voiceops/cli/models_steps.py``, over ``training.steps`` and
``registry.register``): the functions the Dagster training and registry assets call. The
steps read the platform's settings from the environment: the pods need the
``voiceops-settings`` secret the Katib trials get (deploy/kfp/README.md says how), so they
read the same lake, warehouse and MLflow.
"""

# no `from __future__ import annotations`: kfp reads the components' annotations as types
from typing import Any

from kfp import dsl

from training.families import FAMILIES, Family

PIPELINE_NAME = "voiceops-training"
#: The voiceops command in the training image (its entry point is the same CLI).
VOICEOPS = ["voiceops", "models"]
#: What a training pod asks for: the demo presets train in 1-5 min on 2 cores (README)
TRAIN_CPU, TRAIN_MEMORY = "2", "4G"


def _component(function: Any, name: str) -> Any:
    """``function`` as a container component called ``name`` (the task's name in the DAG)."""
    function.__name__ = function.__qualname__ = name
    return dsl.container_component(function)


def data_component(image: str) -> Any:
    """The data task: the published marts' lake commit (checked to be ``commit`` if given)."""

    def published_data(
        commit: str, data: dsl.Output[dsl.Artifact], lake_commit: dsl.OutputPath(str)
    ):
        return dsl.ContainerSpec(
            image=image,
            command=[*VOICEOPS, "data"],
            args=["--commit", commit, "--output", data.path, "--commit-output", lake_commit],
        )

    return _component(published_data, "data")


def train_component(image: str, family: Family) -> Any:
    """``train_<family>``: train on the family's mart at the lake commit; the run directory
    (SavedModel, logs) is the ``model`` artifact, the training record the ``record``."""
    if family.uses_models == ("stt",):

        def train(
            lake_commit: str,
            size: str,
            stt_model: dsl.Input[dsl.Model],
            model: dsl.Output[dsl.Model],
            record: dsl.Output[dsl.Artifact],
        ):
            return dsl.ContainerSpec(
                image=image,
                command=[*VOICEOPS, "train"],
                args=[family.name, "--commit", lake_commit, "--size", size,
                      "--stt-model", stt_model.path,
                      "--run-dir", model.path, "--output", record.path],
            )  # fmt: skip

    elif not family.uses_models:

        def train(
            lake_commit: str,
            size: str,
            model: dsl.Output[dsl.Model],
            record: dsl.Output[dsl.Artifact],
        ):
            return dsl.ContainerSpec(
                image=image,
                command=[*VOICEOPS, "train"],
                args=[family.name, "--commit", lake_commit, "--size", size,
                      "--run-dir", model.path, "--output", record.path],
            )  # fmt: skip

    else:
        raise ValueError(f"{family.name} uses {family.uses_models}: no component for that")
    return _component(train, f"train_{family.name}")


def evaluate_component(image: str, family: Family) -> Any:
    """``evaluate_<family>``: scores on the test splits a training run scores (STT
    ``test_real``, NLU ``test_human``...) at the lake commit, and the missed targets; TTS
    is scored with the STT model its training used (its ``cer_ratio``)."""
    if family.uses_models == ("stt",):

        def evaluate(
            record: dsl.Input[dsl.Artifact],
            model: dsl.Input[dsl.Model],
            stt_model: dsl.Input[dsl.Model],
            evaluation: dsl.Output[dsl.Artifact],
        ):
            return dsl.ContainerSpec(
                image=image,
                command=[*VOICEOPS, "evaluate"],
                args=["--record", record.path, "--model", model.path,
                      "--stt-model", stt_model.path, "--output", evaluation.path],
            )  # fmt: skip

    elif not family.uses_models:

        def evaluate(
            record: dsl.Input[dsl.Artifact],
            model: dsl.Input[dsl.Model],
            evaluation: dsl.Output[dsl.Artifact],
        ):
            return dsl.ContainerSpec(
                image=image,
                command=[*VOICEOPS, "evaluate"],
                args=["--record", record.path, "--model", model.path, "--output", evaluation.path],
            )

    else:
        raise ValueError(f"{family.name} uses {family.uses_models}: no component for that")
    return _component(evaluate, f"evaluate_{family.name}")


def register_component(image: str, family: Family) -> Any:
    """``register_<family>``: an MLflow model version with its lineage, then the gate."""
    if family.uses_models == ("stt",):

        def register(
            record: dsl.Input[dsl.Artifact],
            model: dsl.Input[dsl.Model],
            stt_model: dsl.Input[dsl.Model],
            evaluation: dsl.Input[dsl.Artifact],
            registration: dsl.Output[dsl.Artifact],
        ):
            return dsl.ContainerSpec(
                image=image,
                command=[*VOICEOPS, "register"],
                args=["--record", record.path, "--model", model.path,
                      "--stt-model", stt_model.path,
                      "--evaluation", evaluation.path, "--output", registration.path],
            )  # fmt: skip

    else:

        def register(
            record: dsl.Input[dsl.Artifact],
            model: dsl.Input[dsl.Model],
            evaluation: dsl.Input[dsl.Artifact],
            registration: dsl.Output[dsl.Artifact],
        ):
            return dsl.ContainerSpec(
                image=image,
                command=[*VOICEOPS, "register"],
                args=["--record", record.path, "--model", model.path,
                      "--evaluation", evaluation.path, "--output", registration.path],
            )  # fmt: skip

    return _component(register, f"register_{family.name}")


def build_pipeline(image: str) -> Any:
    """The pipeline on ``image``: one data task, then per family train -> evaluate ->
    register; a family that uses another's model (TTS uses STT) trains after it."""
    data_step = data_component(image)
    steps = {
        name: (
            train_component(image, family),
            evaluate_component(image, family),
            register_component(image, family),
        )
        for name, family in FAMILIES.items()
    }

    @dsl.pipeline(
        name=PIPELINE_NAME,
        description="Train, evaluate and register the STT, NLU, NLG and TTS models on the "
        "published marts of one lake commit.",
    )
    def voiceops_training(lake_commit: str = "", size: str = "demo"):
        # never cached: with no commit given it resolves whatever is published now
        data = data_step(commit=lake_commit).set_caching_options(False)
        trained: dict[str, Any] = {}
        for name, family in FAMILIES.items():
            train_step, evaluate_step, register_step = steps[name]
            used = {
                f"{model}_model": trained[model].outputs["model"] for model in family.uses_models
            }
            train = train_step(lake_commit=data.outputs["lake_commit"], size=size, **used)
            train.set_cpu_request(TRAIN_CPU).set_memory_request(TRAIN_MEMORY)
            trained[name] = train
            evaluate = evaluate_step(
                record=train.outputs["record"], model=train.outputs["model"], **used
            )
            register_step(
                record=train.outputs["record"],
                model=train.outputs["model"],
                evaluation=evaluate.outputs["evaluation"],
                **used,
            ).set_caching_options(False)  # the registry's state decides, not the inputs alone

    return voiceops_training
