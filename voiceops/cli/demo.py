"""``voiceops demo``: the pipeline demo, and ``demo lake-tour``: the lake's versioning.

Ingest a small contact-center sample on a branch, commit it with lineage metadata, diff it
against main, merge, tag; then correct a label on another branch and read the file at the
tag (old) and at main (new). Safe to run any number of times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from versioning.lake import Lake, NotFoundError, open_lake
from voiceops.cli import _demo_data as data
from voiceops.cli._lakeargs import current_settings
from voiceops.cli._output import CliError, esc, format_size, say, short_id, stdout_console
from voiceops.cli.lake import commit_table, print_diff

STEPS = 9
TOUR_REPOSITORY = "lake-tour"


@dataclass
class DemoRun:
    """What the demo did, for the summary table."""

    repository: str
    run_id: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    step: int = 0

    def say(self, text: str) -> None:
        self.step += 1
        say(f"[bold cyan]step {self.step}/{STEPS}[/bold cyan] {text}")

    def note(self, name: str, value: object) -> None:
        self.rows.append((name, str(value)))


def _ensure_repository(lake: Lake, repository: str) -> tuple[str, bool]:
    """The default branch of ``repository``, creating it if needed; and whether it was new."""
    try:
        return lake.get_repository(repository).default_branch, False
    except NotFoundError:
        return lake.create_repository(repository).default_branch, True


demo_app = typer.Typer(
    help="Run the platform end to end on the embedded defaults.", no_args_is_help=False
)


@demo_app.callback(invoke_without_command=True)
def demo(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(help="Good days to simulate, ingest and publish.")] = 2,
    calls: Annotated[
        int, typer.Option(help="Calls per day (day 1 has three times more); STT needs ~1,000.")
    ] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the simulator.")] = 42,
    bad_rate: Annotated[float, typer.Option(help="Share of planted bad records.")] = 0.05,
    loop: Annotated[
        bool, typer.Option("--loop", help="Then run `voiceops demo loop` (the loop, unattended).")
    ] = False,
) -> None:
    """The main pipeline: simulate, ingest, audit with dbt, publish only what passed."""
    if ctx.invoked_subcommand is None:
        from voiceops.cli.demo_pipeline import pipeline_demo

        pipeline_demo(days=days, calls=calls, seed=seed, bad_rate=bad_rate)
        if loop:
            from voiceops.cli.demo_loop import loop_demo

            loop_demo(current_settings())


@demo_app.command("loop")
def loop_cmd(
    calls: Annotated[int, typer.Option(help="Calls of the new simulated day.")] = 400,
    seed: Annotated[int, typer.Option(help="Seed of the simulator (plus the day).")] = 7,
    recordings: Annotated[
        bool,
        typer.Option(
            "--recordings/--no-recordings",
            help="Give the new day recordings (retrains STT and TTS too: much longer).",
        ),
    ] = False,
    size: Annotated[str, typer.Option(help="Training preset of the retraining run.")] = "demo",
    timeout: Annotated[float, typer.Option(help="Seconds before the demo gives up.")] = 3600,
    worse: Annotated[
        bool,
        typer.Option(
            "--worse",
            help="Plant a large day of shifted intent labels (valid values: every data test "
            "passes); the version trained on it must never reach champion.",
        ),
    ] = False,
) -> None:
    """The retraining loop, unattended: a new day -> ingest -> audit -> publish -> retrain of
    the changed families -> gate -> canary on simulated callers -> promotion or rollback."""
    from voiceops.cli.demo_loop import loop_demo

    if size not in ("tiny", "demo"):
        raise CliError(f"--size: {size!r} is not a preset (tiny, demo)")
    loop_demo(
        current_settings(),
        calls=calls,
        seed=seed,
        recordings=recordings,
        size=size,
        timeout_s=timeout,
        worse=worse,
    )


@demo_app.command("lake-tour")
def demo_cmd(
    seed: Annotated[int, typer.Option(help="Seed of the sample data.")] = 7,
    repository: Annotated[
        str,
        typer.Option(
            help="Lake repository of the tour (not the pipeline's: its main is protected and "
            "takes only audited data)."
        ),
    ] = TOUR_REPOSITORY,
) -> None:
    """A lake round trip on the embedded default: ingest, commit, diff, merge, tag, time travel."""
    settings = current_settings()
    lake = open_lake(settings)
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%d-%H%M%S-%f")
    run = DemoRun(repository, f"demo-{stamp}")
    repo = run.repository

    main, created = _ensure_repository(lake, repo)
    state = "created" if created else "exists, reusing it"
    run.say(f"repository {repo} {state} (default branch {main})")
    run.note("Repository", f"lakefs://{repo}")
    if settings.lake_backend == "local":
        run.note("Lake root", settings.lake_root)

    # -- write ----------------------------------------------------------------------------
    ingest = f"ingest-{run.run_id}"
    lake.create_branch(repo, ingest, main)
    day = now.date()
    calls = data.call_records(day, run.run_id, seed)
    tickets = data.ticket_records(calls, run.run_id)
    calls_path = f"raw/calls/dt={day}/part-0.jsonl"
    files = {
        calls_path: data.jsonl(calls),
        f"raw/crm/tickets/dt={day}/part-0.jsonl": data.jsonl(tickets),
        f"raw/recordings/dt={day}/test-tone-440hz.wav": data.test_tone_wav(),
    }
    lake.upload_many(repo, ingest, files.items())
    size = sum(len(b) for b in files.values())
    run.say(f"wrote {len(files)} files ({format_size(size)}) on branch {ingest}")
    run.note("Sample", f"{len(calls)} calls, {len(tickets)} tickets, 1 WAV test tone")

    metadata = {
        "run_id": run.run_id,
        "source": "voiceops-demo (seeded contact-center sample)",
        "seed": str(seed),
        "records.calls": str(len(calls)),
        "records.tickets": str(len(tickets)),
        "records.recordings": "1",
    }
    ingest_commit = lake.commit(repo, ingest, f"Ingest demo sample {day}", metadata)
    run.say(f"committed {short_id(ingest_commit.id)} with metadata run_id={run.run_id}")
    run.note("Ingest commit", short_id(ingest_commit.id))

    # -- audit and publish ----------------------------------------------------------------
    run.say(f"diff {main}..{ingest} (what publishing would change):")
    print_diff(f"{main}..{ingest}", lake.diff(repo, main, ingest))
    merged = lake.merge(repo, ingest, main, message=f"Publish {run.run_id}")
    tag = f"demo-{stamp}"
    lake.create_tag(repo, tag, main)
    run.say(f"merged into {main} ({short_id(merged.commit_id)}) and tagged it {tag}")
    run.note("Tag", f"{tag} -> {short_id(lake.resolve_ref(repo, tag))}")

    # -- time travel ----------------------------------------------------------------------
    fix = f"relabel-{run.run_id}"
    lake.create_branch(repo, fix, main)
    corrected = data.read_jsonl(lake.read_bytes(repo, fix, calls_path))
    old, new = data.relabel_first_call(corrected)
    lake.upload(repo, fix, calls_path, data.jsonl(corrected))
    fix_commit = lake.commit(
        repo,
        fix,
        f"Relabel {corrected[0]['call_id']}: {old} -> {new}",
        {"run_id": run.run_id, "source": "reviewer correction"},
    )
    lake.merge(repo, fix, main, message=f"Publish relabel of {run.run_id}")
    run.say(f"relabelled {corrected[0]['call_id']} on {fix}, committed, merged into {main}")
    run.note("Correction commit", short_id(fix_commit.id))

    at_tag = data.read_jsonl(lake.read_bytes(repo, tag, calls_path))[0]["intent"]
    at_main = data.read_jsonl(lake.read_bytes(repo, main, calls_path))[0]["intent"]
    if (at_tag, at_main) != (old, new):
        raise CliError(f"time travel check failed: tag has {at_tag!r}, main has {at_main!r}")
    run.say(f"time travel: {calls_path} at tag {tag}: intent={at_tag}; at {main}: intent={at_main}")
    run.note("Read at tag / main", f"intent={at_tag} / intent={at_main}")

    for branch in (ingest, fix):
        lake.delete_branch(repo, branch)
    run.say(f"deleted branches {ingest} and {fix} (their commits stay in {main}'s history)")

    # -- history and health ---------------------------------------------------------------
    stdout_console().print(
        commit_table(f"Log of lakefs://{repo}/{main}", lake.log(repo, main, 5), metadata=False)
    )
    report = lake.fsck(repo, verify_content=True)
    run.say(
        f"fsck: {report.checked_commits} commits, {report.checked_objects} objects: "
        + ("[green]OK[/green]" if report.ok else f"[red]{len(report.errors)} problems[/red]")
    )
    run.note("Main head", short_id(lake.resolve_ref(repo, main)))
    run.note("fsck", "OK" if report.ok else f"{len(report.errors)} problems")
    _print_summary(run)
    if not report.ok:
        raise CliError(f"fsck found {len(report.errors)} problems in {repo}")


def _print_summary(run: DemoRun) -> None:
    table = Table(title=f"Demo {run.run_id}: summary", title_justify="left", show_header=False)
    table.add_column("What", style="bold")
    table.add_column("Value", overflow="fold")
    for name, value in run.rows:
        table.add_row(name, esc(value))
    stdout_console().print(table)
