"""``voiceops models import|compare``: a pretrained model as a version, and two versions side
by side. :data:`COMMANDS` are added to ``voiceops models`` by :mod:`voiceops.cli.models`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from voiceops.cli._output import JsonOption, esc, print_json, say
from voiceops.cli.models_steps import FamilyArg, tensorflow_call, used_models

if TYPE_CHECKING:
    from core.settings import Settings
    from registry.register import Registration


SttModelOption = Annotated[
    Path | None,
    typer.Option(
        "--stt-model",
        help="The STT SavedModel a TTS version is scored with (default: the STT @champion).",
    ),
]


def import_cmd(
    family: FamilyArg,
    source: Annotated[
        str,
        typer.Option(
            "--from",
            help="pocketsphinx-en-us (STT, from its PyPI wheel) or a local SavedModel directory "
            "with the family's serving signature.",
        ),
    ],
    licence: Annotated[
        str, typer.Option("--licence", help="The model's licence (a SavedModel's is required).")
    ] = "",
    stt_model: SttModelOption = None,
    json_out: JsonOption = False,
) -> None:
    """Register a pretrained model as a version of FAMILY through the gate (scored on the
    published mart's test splits; lineage: the files' sha256, source and licence)."""

    def imported(settings: Settings) -> Registration:
        from registry.import_version import import_version

        return import_version(
            family, source, settings=settings, licence=licence, used_models=used_models(stt_model)
        )

    result = tensorflow_call(imported)
    if json_out:
        print_json(result.to_dict())
        return
    verdict = "passed" if result.verdict.passed else "refused"
    names = " ".join(f"@{a}" for a, v in result.aliases.items() if v == result.version)
    say(f"{result.model} v{result.version} imported from {esc(source)}: gate {verdict} {names}")
    for rule in result.verdict.rules:
        say(f"  {'ok ' if rule.passed else 'NO '} {rule.rule}: {esc(rule.reason)}")


def compare_cmd(
    family: FamilyArg,
    new: Annotated[str, typer.Argument(help="A version number or @alias.")],
    old: Annotated[str, typer.Argument(help="The version to compare with.")] = "@champion",
    stt_model: SttModelOption = None,
    json_out: JsonOption = False,
) -> None:
    """NEW against OLD on the published test rows: the gate's paired bootstrap per metric
    and language (an English-only import: on the English rows)."""

    def compared(settings: Settings) -> dict[str, Any]:
        from registry.compare_versions import compare_versions

        return compare_versions(settings, family, new, old, used_models=used_models(stt_model))

    report = tensorflow_call(compared)
    if json_out:
        print_json(report)
        return
    say(f"v{report['new']} against v{report['old']} ({report['family_confidence']:.0%})")
    for metric, languages in sorted(report["results"].items()):
        for language, result in sorted(languages.items()):
            say(
                esc(
                    f"  {metric}[{language}]: {result['verdict']}: new {result['new']:.4f}, "
                    f"old {result['champion']:.4f} on {result['n']} rows, difference CI "
                    f"[{result['ci_low']:+.4f}, {result['ci_high']:+.4f}]"
                )
            )


COMMANDS = {"import": import_cmd, "compare": compare_cmd}
