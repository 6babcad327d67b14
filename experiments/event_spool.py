"""Spool files of the event log: one JSON line per event, named after the writing process.

``<host>-<pid>.jsonl`` is the file a process is filling, ``<host>-<pid>.<seq>.jsonl`` one it
sealed for the store. A file whose process no longer runs on this host is an orphan, which the
next :class:`experiments.event_log.EventLog` on the host adopts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

from core.settings import Settings
from experiments.events import Event

log = logging.getLogger(__name__)

#: ``<host>-<pid>.jsonl`` (being filled) or ``<host>-<pid>.<seq>.jsonl`` (sealed).
SPOOL_NAME = re.compile(r"^(?P<host>.+)-(?P<pid>\d+)(?:\.(?P<seq>\d+))?\.jsonl$")


def spool_dir(settings: Settings) -> Path:
    """Where the API workers of ``settings.home`` spool their events."""
    return settings.home / "experiments" / "spool"


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (a zombie, killed but not reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rpartition(")")[2].split()[0] != "Z"
    return True


def spooled_events(path: Path, corrupt: list[int] | None = None) -> Iterator[Event]:
    """The events of a spool file; an unreadable line is skipped (and counted in
    ``corrupt[0]``): the torn last line of a killed writer is one whose ``record`` never
    returned."""
    with open(path, "rb") as lines:
        for number, raw in enumerate(lines, 1):
            try:
                if not raw.endswith(b"\n"):
                    raise ValueError("torn last line (the writer died while writing it)")
                yield Event.from_json(raw.decode("utf-8"))
            except (ValueError, TypeError) as err:
                log.warning("skipping unreadable line %d of spool file %s: %s", number, path, err)
                if corrupt is not None:
                    corrupt[0] += 1
