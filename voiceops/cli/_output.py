"""Shared rendering and error handling of the ``voiceops`` command line.

Human output goes to stdout through Rich; ``--json`` output is plain JSON on stdout and
nothing else; progress bars and errors go to stderr. Every expected failure (a lake error,
a bad argument, a missing file) ends as one line ``error: <reason>`` and exit code 1.

Rich is imported when something is rendered with it: a line with neither markup nor emoji
codes is written as is (Rich would print the same characters), so a command that prints
one such line (``voiceops lake commit``) never loads Rich.
"""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from core.errors import VoiceOpsError

if TYPE_CHECKING:
    from rich.console import Console

#: The ``--json`` flag shared by the commands that can print machine-readable output.
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON (and nothing else) on stdout.")
]


class CliError(VoiceOpsError):
    """An expected failure whose message is shown to the user as ``error: <message>``."""


#: Width of tables when stdout is not a terminal (pipes, logs): wide enough not to fold paths.
PIPE_WIDTH = 200


def stdout_console() -> Console:
    """A console on the current stdout (tests swap ``sys.stdout`` per invocation)."""
    from rich.console import Console

    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(file=sys.stdout, highlight=False, width=PIPE_WIDTH if piped else None)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(file=sys.stderr, highlight=False)


#: Text Rich prints unchanged: no markup brackets, no ``:emoji:`` codes.
_PLAIN_TEXT = re.compile(r"[^\[\]:]*")


def say(message: str) -> None:
    """One human-readable line on stdout (Rich markup allowed, never wrapped)."""
    if message.isprintable() and _PLAIN_TEXT.fullmatch(message):
        sys.stdout.write(message + "\n")
        sys.stdout.flush()
        return
    stdout_console().print(message, soft_wrap=True)


def print_json(data: Any) -> None:
    """Machine-readable output: indented JSON, UTF-8 kept readable."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def one_line(error: BaseException) -> str:
    """The error's message collapsed to a single line."""
    text = " ".join(str(error).split())
    if isinstance(error, OSError) and error.strerror and error.filename is not None:
        text = f"{error.filename}: {error.strerror}"
    return text or type(error).__name__


def report_error(error: BaseException) -> None:
    sys.stderr.write(f"error: {one_line(error)}\n")
    sys.stderr.flush()


def esc(text: object) -> str:
    """User content (paths, messages) made safe for Rich markup."""
    from rich.markup import escape

    return escape(str(text))


def short_id(commit_id: str, length: int = 12) -> str:
    return commit_id[:length]


def format_size(size: int | None) -> str:
    from rich.filesize import decimal

    return "" if size is None else decimal(size)


def format_time(ts: float) -> str:
    """A timestamp in the local time zone, to the second."""
    return datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def format_meta(metadata: dict[str, str]) -> str:
    return esc(", ".join(f"{k}={v}" for k, v in sorted(metadata.items())))
