"""``voiceops simulate``: write a day of simulated contact-center sources, or serve the CRM API.

``voiceops simulate --day N --calls K --seed S`` writes day N (call exports, recordings,
CRM changes, manifest) under the sources root; ``voiceops simulate serve-crm`` serves the
CRM database over HTTP until interrupted.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer
from rich.table import Table

from ingestion.simulator import layout
from voiceops.cli._lakeargs import current_settings
from voiceops.cli._output import CliError, esc, format_size, say, stdout_console
from voiceops.cli._progress import stage_progress, watching

simulate_app = typer.Typer(
    help="The contact-center simulator: days of calls, recordings and CRM data.",
    invoke_without_command=True,
)

OutOption = Annotated[
    Path | None,
    typer.Option("--out", help="Sources root (default: VOICEOPS_SOURCES_DIR or HOME/sources)."),
]


def _root(out: Path | None) -> Path:
    return out if out is not None else current_settings().sources_root


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items(), key=lambda kv: -kv[1]))


@simulate_app.callback()
def simulate(
    ctx: typer.Context,
    day: Annotated[
        int | None, typer.Option("--day", help="Simulation day (1 = 2026-01-01).")
    ] = None,
    calls: Annotated[int, typer.Option("--calls", help="Calls on that day.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed: same seed, same bytes.")] = 42,
    bad_rate: Annotated[
        float, typer.Option("--bad-rate", help="Share of calls planted with a defect.")
    ] = 0.03,
    no_audio: Annotated[
        bool, typer.Option("--no-audio", help="Skip WAV rendering (exports and CRM only).")
    ] = False,
    out: OutOption = None,
) -> None:
    """Write one simulated day (``--day N``), or run a sub-command (``serve-crm``)."""
    if ctx.invoked_subcommand is not None:
        return
    if day is None:
        raise CliError("--day is required (e.g. voiceops simulate --day 1 --calls 200)")
    from ingestion.simulator.day import write_day

    root = _root(out)
    started = time.perf_counter()
    try:
        with stage_progress(watching()) as progress:
            report = write_day(
                root, day, calls, seed, bad_rate=bad_rate, audio=not no_audio, progress=progress
            )
    except (ValueError, RuntimeError) as err:
        raise CliError(str(err)) from err
    elapsed = time.perf_counter() - started

    table = Table(
        title=f"simulated day {report.day} ({report.date}), seed {report.seed}", show_header=False
    )
    table.add_column("", style="bold")
    table.add_column("")
    table.add_row("Calls", str(report.calls))
    table.add_row("Languages", _counts(report.languages))
    table.add_row("Channels", _counts(report.channels))
    table.add_row("Intents", f"{len(report.intents)}: {_counts(report.intents)}")
    audio_note = (
        f"{report.real_speech} real speech, {report.held_out_speakers} held-out speakers"
        if report.audio
        else "not rendered (--no-audio)"
    )
    table.add_row("Audio", audio_note)
    table.add_row("Voices", _counts(report.engines))
    table.add_row("Lines", _counts(report.lines))
    defects = _counts(report.defect_counts) or "none"
    table.add_row("Defects", f"{len(report.defects)} ({defects})")
    table.add_row("CRM", ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in report.crm.items()))
    table.add_row("Personal data", f"calls {_counts(report.pii['counts']['calls']) or 'none'}")
    table.add_row("Bytes", format_size(report.bytes_written))
    table.add_row("Time", f"{elapsed:.2f} s")
    table.add_row("Sources", esc(root))
    table.add_row("Manifest", esc(layout.day_manifest(root, day)))
    stdout_console().print(table)


@simulate_app.command("serve-crm")
def serve_crm(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int | None, typer.Option("--port", help="Port (default: from VOICEOPS_CRM_API_URL, 8765).")
    ] = None,
    out: OutOption = None,
) -> None:
    """Serve the CRM REST API over the simulated CRM database (blocking; Ctrl+C stops)."""
    from ingestion.simulator.crm_service import serve

    db_path = layout.crm_database(_root(out))
    if not db_path.is_file():
        raise CliError(f"no CRM database at {db_path}; run 'voiceops simulate --day 1' first")
    port = port if port is not None else urlsplit(current_settings().crm_api_url).port or 8765
    say(f"CRM API on [bold]http://{esc(host)}:{port}[/bold] over {esc(db_path)} (Ctrl+C stops)")
    serve(db_path, host, port)


@simulate_app.command("traffic")
def traffic(
    users: Annotated[int, typer.Option("--users", min=1, help="Callers (CRM customers).")] = 50,
    turns: Annotated[int, typer.Option("--turns", min=1, help="Turns per call.")] = 3,
    url: Annotated[str, typer.Option("--url", help="The turn API.")] = "http://127.0.0.1:8700",
    effect: Annotated[
        float, typer.Option("--effect", help="Added to the resolution chance of EFFECT_ARM.")
    ] = 0.0,
    effect_arm: Annotated[
        str, typer.Option("--effect-arm", help="The arm whose callers get the effect.")
    ] = "candidate",
    audio_share: Annotated[
        float, typer.Option("--audio-share", min=0.0, max=1.0, help="Turns sent as speech.")
    ] = 0.0,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Calls at once.")] = 4,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same callers and words.")] = 0,
    out: OutOption = None,
) -> None:
    """Drive the turn API with simulated callers (a planted effect per arm); print a summary."""
    import json
    from datetime import date

    from serving.traffic import TrafficGenerator, TrafficPlan

    plan = TrafficPlan(users, turns, seed, audio_share, effect, effect_arm, concurrency)
    report = TrafficGenerator(url, plan, _root(out), date.today()).run()
    summary = report.summary()
    typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    if report.errors or report.transport_errors or not report.turns:
        failed = sum(report.errors.values()) + sum(report.transport_errors.values())
        raise CliError(
            f"{failed} turns failed: {dict(report.errors)}; "
            f"without an answer: {dict(report.transport_errors)}"
        )
