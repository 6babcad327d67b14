"""Progress of long commands, shown only to someone watching.

A command shows progress when its stdout is a terminal and ``--json`` is off
(:func:`watching`). The simulator's stages appear as transient Rich bars on stderr
(:func:`stage_progress`); training, which may run inside a Dagster run whose output Dagster
captures, prints a line per epoch when ``VOICEOPS_PROGRESS=1`` (:func:`training_progress`,
read by ``training.common.callbacks.EpochProgress``).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator

from voiceops.cli._output import stderr_console

#: ``stage, done, total``: what ``ingestion.simulator.day.write_day`` reports.
StageProgress = Callable[[str, int, int], None]
#: Read by ``training.common.callbacks`` (``1``: a line per epoch, ``0``: none).
PROGRESS_ENV = "VOICEOPS_PROGRESS"
#: How the simulator's stages are labelled on the bars.
STAGE_LABELS = {
    "calls": "planning calls",
    "audio": "rendering recordings",
    "exports": "writing exports",
    "crm": "updating the CRM",
    "manifest": "writing the manifest",
}


def watching(json_out: bool = False) -> bool:
    """Whether progress is wanted: stdout is a terminal and the output is not JSON."""
    return not json_out and sys.stdout.isatty()


def _ignore(stage: str, done: int, total: int) -> None:
    """Progress nobody watches."""


@contextlib.contextmanager
def stage_progress(enabled: bool) -> Iterator[StageProgress]:
    """A ``progress(stage, done, total)`` callback drawing one transient bar per stage on
    stderr (gone when the block ends); a no-op unless ``enabled``."""
    if not enabled:
        yield _ignore
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=stderr_console(), transient=True) as bar:
        tasks: dict[str, object] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(STAGE_LABELS.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)  # type: ignore[arg-type]

        yield update


def training_progress(enabled: bool) -> None:
    """Turn the per-epoch training lines on or off for this process (and the Dagster runs it
    executes in-process)."""
    os.environ[PROGRESS_ENV] = "1" if enabled else "0"
