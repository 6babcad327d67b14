"""``voiceops monitor``: what the platform measures about itself.

voiceops monitor metrics                     # the pipeline metrics, Prometheus text format
voiceops monitor metrics -o DIR/voiceops.prom  # for node-exporter's textfile collector
voiceops monitor metrics --push [--gateway URL]  # to the Pushgateway as well
voiceops monitor status [--json]             # champions, drift, live figures, open alerts
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
