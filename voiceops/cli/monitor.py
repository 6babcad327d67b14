"""``voiceops monitor``: what the platform measures about itself.

voiceops monitor metrics                     # the pipeline metrics, Prometheus text format
voiceops monitor metrics -o DIR/voiceops.prom  # for node-exporter's textfile collector
voiceops monitor metrics --push [--gateway URL]  # to the Pushgateway as well
voiceops monitor status [--json]             # champions, drift, live figures, open alerts
voiceops monitor duplicates [--version 3] [--threshold 0.95]  # NLU test rows near train rows
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from voiceops.cli._lakeargs import current_settings
from voiceops.cli._output import CliError, JsonOption, print_json

monitor_app = typer.Typer(
    help="Monitoring: the pipeline metrics (Prometheus text, textfile or Pushgateway) and "
    "the status of the champions (drift, live figures, alerts).",
    no_args_is_help=True,
)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed over it, so a textfile
    collector never reads a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


@monitor_app.command("metrics")
def metrics_cmd(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file (atomically) instead of stdout."),
    ] = None,
    push: Annotated[
        bool,
        typer.Option("--push", help="Also push them to the Pushgateway (job voiceops_pipeline)."),
    ] = False,
    gateway: Annotated[
        str | None,
        typer.Option("--gateway", help="Pushgateway URL (default: VOICEOPS_PUSHGATEWAY_URL)."),
    ] = None,
) -> None:
    """Print the pipeline metrics in Prometheus' text format.

    Lake publishes, ingestion quarantine, audits, training, the gate, the champions' data and
    failed runs, computed from the platform's records now.
    """
    from monitoring.pipeline import exposition, push_pipeline_metrics

    settings = current_settings()
    if push and not (gateway or settings.pushgateway_url):
        raise CliError("--push needs a Pushgateway: --gateway URL or VOICEOPS_PUSHGATEWAY_URL")
    text = exposition(settings)
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomically(output, text)
    if push:
        push_pipeline_metrics(settings, gateway)


@monitor_app.command("status")
def status_cmd(json_out: JsonOption = False) -> None:
    """Per family: the champion version, its data commit and age, the latest drift scores
    and, when VOICEOPS_PROMETHEUS_URL is set, live error ratio and p99; then open alerts."""
    from monitoring.status import status, status_lines

    result = status(current_settings())
    if json_out:
        print_json(result)
        return
    for line in status_lines(result):
        sys.stdout.write(line + "\n")


@monitor_app.command("duplicates")
def duplicates_cmd(
    version: Annotated[
        str, typer.Option(help="The NLU version: @ALIAS or a number.")
    ] = "@champion",
    threshold: Annotated[
        float,
        typer.Option(min=-1.0, max=1.0, help="Cosine similarity from which rows are duplicates."),
    ] = 0.95,
    split: Annotated[str, typer.Option(help="The held-out split: test or validation.")] = "test",
    examples: Annotated[int, typer.Option(min=0, help="Pairs shown per language.")] = 3,
    json_out: JsonOption = False,
) -> None:
    """Near-duplicates between the NLU version's train split and its test split (cosine of
    the utterance embeddings at least THRESHOLD): counts per language and examples."""
    from voiceops.cli._tensorflow import import_tensorflow

    import_tensorflow()
    from monitoring.vectors.neighbours import near_duplicates
    from monitoring.vectors.qdrant import open_store
    from monitoring.vectors.versions import version_index
    from voiceops.cli._registry import registry_call

    if split not in ("test", "validation"):
        raise CliError(f"--split {split}: test or validation")
    settings = current_settings()
    with open_store(settings) as store:
        index, commit = registry_call(lambda: version_index(settings, store, version))
        found = near_duplicates(index, threshold, split)
        held_out = {lang: index.count("training", split=split, language=lang) for lang in found}
    result = {
        "version": index.version,
        "lake_commit": commit,
        "threshold": threshold,
        "split": split,
        "languages": {
            language: {
                "duplicates": len(pairs),
                "held_out": held_out[language],
                "examples": [
                    {
                        "similarity": pair.similarity,
                        split: f"{pair.held_out['text']} ({pair.held_out['intent']})",
                        "train": f"{pair.train['text']} ({pair.train['intent']})",
                    }
                    for pair in pairs[:examples]
                ],
            }
            for language, pairs in found.items()
        },
    }
    if json_out:
        print_json(result)
        return
    sys.stdout.write(
        f"voicebot-nlu v{result['version']}: {split} rows with a train row at cosine >= "
        f"{threshold} (lake commit {commit[:12]})\n"
    )
    for language, entry in result["languages"].items():
        sys.stdout.write(f"{language}: {entry['duplicates']} of {entry['held_out']}\n")
        for pair in entry["examples"]:
            sys.stdout.write(
                f"  {pair['similarity']:.3f}  {split}: {pair[split]}\n"
                f"         train: {pair['train']}\n"
            )
