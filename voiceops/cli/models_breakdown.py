"""``voiceops models breakdown``: a registered STT version's CER per group of one split's rows
(voice engine, telephone line, language or speaker) and per language. :data:`COMMANDS` are
added to ``voiceops models`` by :mod:`voiceops.cli.models`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from voiceops.cli._output import JsonOption, esc, print_json, say, short_id, stdout_console
from voiceops.cli.models_steps import tensorflow_call

if TYPE_CHECKING:
    from core.settings import Settings


def breakdown_table(report: dict[str, Any]) -> Table:
    """One line per group and language (``all`` first), then the split's languages."""
    table = Table(report["by"], "language", "rows", "CER", "WER")
    sections = [*report["groups"].items(), ("all groups", report["languages"])]
    for group, languages in sections:
        for language in sorted(languages, key=lambda lang: (lang != "all", lang)):
            metrics = languages[language]
            table.add_row(
                esc(group),
                language,
                f"{metrics['n']:g}",
                f"{metrics['cer']:.4f}",
                f"{metrics['wer']:.4f}",
            )
    return table


def worst_table(worst: list[dict[str, Any]]) -> Table:
    """The worst utterances: errors, CER, group, speaker, reference and transcript."""
    table = Table("errors", "CER", "group", "language", "speaker", "said", "written")
    for miss in worst:
        table.add_row(
            str(miss["errors"]),
            f"{miss['cer']:.3f}",
            esc(miss["group"]),
            miss["language"],
            esc(miss["speaker"]),
            esc(miss["reference"]),
            esc(miss["hypothesis"]),
        )
    return table


def confusions_table(confusions: dict[str, list[dict[str, Any]]]) -> Table:
    """Per language, the most frequent word confusions ("-" for no words)."""
    table = Table("language", "count", "said", "written")
    for language, pairs in confusions.items():
        for pair in pairs:
            table.add_row(
                language,
                str(pair["count"]),
                esc(pair["reference"] or "-"),
                esc(pair["hypothesis"] or "-"),
            )
    return table


def breakdown_cmd(
    family: Annotated[str, typer.Argument(help="stt (the only family scored per group).")],
    ref: Annotated[str, typer.Argument(help="A version number or @alias.")],
    split: Annotated[
        str, typer.Option("--split", help="test, test_channel or test_real.")
    ] = "test",
    by: Annotated[str, typer.Option("--by", help="engine, line, language or speaker.")] = "engine",
    published: Annotated[
        bool,
        typer.Option(
            "--published",
            help="Read the published marts' rows, not the lake commit the version was trained on.",
        ),
    ] = False,
    errors: Annotated[
        int,
        typer.Option(
            "--errors",
            min=0,
            help="Also list the N worst utterances and each language's N commonest word "
            "confusions.",
        ),
    ] = 0,
    json_out: JsonOption = False,
) -> None:
    """CER of a registered STT version per group of a split's rows (engine, line, language
    or speaker) and per language, on the lake commit it was trained on."""
    if family != "stt":
        raise typer.BadParameter("only stt is scored per group", param_hint="FAMILY")

    def scored(settings: Settings) -> dict[str, Any]:
        from registry.group_scores import group_scores

        return group_scores(settings, ref, split=split, by=by, published=published, errors=errors)

    report = tensorflow_call(scored)
    if json_out:
        print_json(report)
        return
    say(
        f"{report['model']} v{report['version']} on {report['split']} at lake commit "
        f"{short_id(report['lake_commit'])} ({report['commit_of']}): {report['scored']} of "
        f"{report['rows']} rows scored"
        + "".join(f", {count} {reason}" for reason, count in report["not_scored"].items())
    )
    stdout_console().print(breakdown_table(report))
    if errors:
        stdout_console().print(worst_table(report["worst"]))
        stdout_console().print(confusions_table(report["confusions"]))


COMMANDS = {"breakdown": breakdown_cmd}
