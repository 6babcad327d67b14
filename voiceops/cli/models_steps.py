"""``voiceops models data|train|evaluate|register``: the training life cycle one step per
process, as a Kubeflow pipeline runs it (``deploy/kfp/``); each step writes its result as
JSON to a file the next step reads. :data:`COMMANDS` are added to ``voiceops models`` by
:mod:`voiceops.cli.models` (this module does not import it: no cycle)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from voiceops.cli._lakeargs import current_settings
from voiceops.cli._output import say
from voiceops.cli._registry import FamilyArg, T, registry_call

if TYPE_CHECKING:
    from core.settings import Settings

CommitOption = Annotated[
    str, typer.Option("--commit", help="Lake commit (default: the published one).")
]
OutputOption = Annotated[Path, typer.Option("--output", help="Write the result (JSON) here.")]
RecordOption = Annotated[
    Path, typer.Option("--record", help="The training record a train step wrote.")
]
ModelOption = Annotated[
    Path | None,
    typer.Option(
        "--model",
        help="The trained model: its run directory or the SavedModel (default: the record's).",
    ),
]


def used_models(stt_model: Path | None) -> dict[str, Path]:
    """The models a command scores with, given ``--stt-model`` (or not)."""
    return {"stt": stt_model} if stt_model is not None else {}


def tensorflow_call(fn: Callable[[Settings], T]) -> T:
    """``fn(settings)`` for a command that loads models: TensorFlow imported first without its
    start-up notices (and filtered while ``fn`` runs), settings read now, expected errors as
    one-line CLI errors. ``fn`` imports the registry modules it needs (they load TensorFlow)."""
    from voiceops.cli._tensorflow import import_tensorflow, tensorflow_notices_filtered

    import_tensorflow()
    with tensorflow_notices_filtered():
        return registry_call(lambda: fn(current_settings()))


def data_cmd(
    commit: CommitOption = "",
    output: OutputOption = Path("data.json"),
    commit_output: Annotated[
        Path | None, typer.Option("--commit-output", help="Also write the bare commit id here.")
    ] = None,
) -> None:
    """Check the published marts are a build of COMMIT; write the commit and manifest hash."""
    from training.steps import published_data, write_json

    lake_commit, manifest = registry_call(lambda: published_data(current_settings(), commit))
    write_json(output, {"lake_commit": lake_commit, "marts_manifest_hash": manifest})
    if commit_output is not None:
        commit_output.parent.mkdir(parents=True, exist_ok=True)
        commit_output.write_text(lake_commit)
    say(f"data: published marts at lake commit {lake_commit[:12]}")


def train_cmd(
    family: FamilyArg,
    commit: CommitOption = "",
    size: Annotated[str, typer.Option("--size", help="tiny or demo.")] = "demo",
    run_dir: Annotated[
        Path, typer.Option("--run-dir", help="Where the export and logs go.")
    ] = Path("run"),
    stt_model: Annotated[
        Path | None, typer.Option("--stt-model", help="The STT model (TTS is scored with it).")
    ] = None,
    output: OutputOption = Path("record.json"),
    init_from: Annotated[
        str,
        typer.Option(
            "--init-from",
            metavar="VERSION",
            help="Start from this registered version's weights (STT; a number or @alias).",
        ),
    ] = "",
) -> None:
    """Train FAMILY on its published mart at COMMIT; write the training record."""
    from voiceops.cli._tensorflow import import_tensorflow, tensorflow_notices_filtered

    import_tensorflow()
    from training.steps import train, write_json

    used = used_models(stt_model)
    settings = current_settings()
    parent = None
    if init_from:
        from registry.parents import resolve_parent

        parent = registry_call(lambda: resolve_parent(settings, family, init_from)).to_dict()
    with tensorflow_notices_filtered():
        record = registry_call(lambda: train(settings, family, commit, size, run_dir, used, parent))
    write_json(output, record)
    say(f"train {family}: {record['epochs']} epochs, model at {record['model_path']}")


def evaluate_cmd(
    record: RecordOption,
    model: ModelOption = None,
    stt_model: Annotated[
        Path | None,
        typer.Option(
            "--stt-model",
            help="The STT model TTS is scored with (default: the one its training used).",
        ),
    ] = None,
    output: OutputOption = Path("eval.json"),
) -> None:
    """Score a trained model on the test splits of its lake commit; write the scores."""
    from voiceops.cli._tensorflow import import_tensorflow, tensorflow_notices_filtered

    import_tensorflow()
    from training.steps import evaluate, read_record, write_json

    training = registry_call(lambda: read_record(record))
    used = used_models(stt_model)
    with tensorflow_notices_filtered():
        result = registry_call(lambda: evaluate(current_settings(), training, model, used))
    write_json(output, result)
    missed = ", ".join(result["missed_targets"]) or "none"
    say(f"evaluate {result['family']}: targets missed: {missed}")


def register_cmd(
    record: RecordOption,
    model: ModelOption = None,
    stt_model: Annotated[Path | None, typer.Option("--stt-model")] = None,
    evaluation: Annotated[
        Path | None, typer.Option("--evaluation", help="An evaluate step's result, kept beside.")
    ] = None,
    output: OutputOption = Path("registration.json"),
) -> None:
    """Register a trained model with its lineage and run the gate; write the verdict.

    A refused version stays registered, tagged refused, as the Dagster asset leaves it."""
    from registry.register import register
    from registry.training_info import TrainingInfo
    from training.steps import read_record, saved_model_in, write_json

    training = registry_call(lambda: read_record(record))
    if model is not None:
        training["model_path"] = str(saved_model_in(model))
    if stt_model is not None:
        training["stt_model_path"] = str(saved_model_in(stt_model))
    info = TrainingInfo.from_metadata(training)
    done = registry_call(lambda: register(training["family"], info, settings=current_settings()))
    write_json(
        output,
        done.to_dict() | ({"evaluation": json.loads(evaluation.read_text())} if evaluation else {}),
    )
    verdict = "passed" if done.verdict.passed else "refused"
    say(f"register {done.model}: version {done.version}, gate {verdict}")


#: ``voiceops models <name>``: added to the models app by :mod:`voiceops.cli.models`
COMMANDS = {
    "data": data_cmd,
    "train": train_cmd,
    "evaluate": evaluate_cmd,
    "register": register_cmd,
}
