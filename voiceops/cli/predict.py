"""``voiceops predict FAMILY[@ALIAS|:VERSION] INPUT``: run a registered model version."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from voiceops.cli._lakeargs import current_settings
from voiceops.cli._output import CliError, print_json
from voiceops.cli._registry import registry_call


def parse_target(target: str) -> tuple[str, str]:
    """``nlu`` -> (nlu, @champion); ``nlu@challenger`` -> alias; ``nlu:3`` -> version 3."""
    if "@" in target:
        name, alias = target.split("@", 1)
        return name, f"@{alias}"
    if ":" in target:
        name, version = target.split(":", 1)
        if not version.isdigit():
            raise CliError(f"{target}: a version is a number, e.g. {name}:3")
        return name, version
    return target, "@champion"


def predict_cmd(
    target: Annotated[str, typer.Argument(help="FAMILY, FAMILY@ALIAS or FAMILY:VERSION.")],
    value: Annotated[
        str,
        typer.Argument(
            metavar="INPUT",
            help="Text (nlu, tts), a JSON request (nlg) or a WAV path (stt).",
        ),
    ],
    out: Annotated[
        Path | None, typer.Option(help="tts: where to write the WAV (default ./tts.wav).")
    ] = None,
    allow_ungated: Annotated[
        bool,
        typer.Option(help="Run a version the gate refused and nobody promoted (debugging)."),
    ] = False,
) -> None:
    """Run the versioned artifact on INPUT (no retraining) and print the result as JSON."""
    from voiceops.cli._tensorflow import import_tensorflow

    import_tensorflow()
    from registry.loading import load_model, resolve
    from registry.serving import predict_one

    name, ref = parse_target(target)
    settings = current_settings()
    found = registry_call(lambda: resolve(name, ref, settings))
    model = registry_call(
        lambda: load_model(
            name, version=found.version, settings=settings, allow_ungated=allow_ungated
        )
    )
    result = registry_call(lambda: predict_one(name, model, value, out))
    print_json({"model": found.model, "version": found.version, "output": result})
