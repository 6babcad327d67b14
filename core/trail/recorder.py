"""Record an action that has happened: redact, append with retries, never lose it quietly.

The trail is opened before an action (:func:`core.trail.open_trail` creates the table, so an
unreachable database stops the action before it happens). After the action, the entry is
appended, retried a few times; if it still cannot be written, it is kept in
``pending.jsonl`` beside the anchor, the next append writes it first (with its original
time), and the caller gets :class:`TrailWriteError`: the action happened, its record is late,
and nobody is told otherwise. ``verify`` fails while anything is pending.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from core.errors import VoiceOpsError
from core.trail.actor import current_actor
from core.trail.entry import ACTIONS, Entry, canonical_json
from core.trail.redact import redact
from core.trail.store import Trail, utc_now

ATTEMPTS = 3
BACKOFF_S = 0.5


class TrailWriteError(VoiceOpsError):
    """An action happened but its trail entry could not be written (it is pending)."""


def pending_path(trail: Trail) -> Path:
    return trail.anchor.path.with_name("pending.jsonl")


def flush_pending(trail: Trail) -> list[Entry]:
    """Append the entries failed writes left pending, oldest first, then remove them.

    They move to ``pending.flushing`` first, where a crash in the middle leaves them to be
    written again: a duplicate entry rather than a lost one.
    """
    path = pending_path(trail)
    flushing = path.with_suffix(".flushing")
    if not (path.is_file() or flushing.is_file()):
        return []
    with trail.anchor.locked():
        if path.is_file():
            with open(flushing, "a", encoding="utf-8") as handle:
                handle.write(path.read_text(encoding="utf-8"))
            path.unlink()
        lines = flushing.read_text(encoding="utf-8").splitlines() if flushing.is_file() else []
        written = [trail.append_locked(**json.loads(line)) for line in lines if line.strip()]
        flushing.unlink(missing_ok=True)
    return written


def record(
    trail: Trail,
    action: str,
    subject: str,
    details: dict[str, Any] | None = None,
) -> Entry:
    """Append ``action`` on ``subject`` by the current actor, secrets masked in ``details``."""
    if action not in ACTIONS:
        raise ValueError(f"unknown trail action {action!r}: one of {', '.join(ACTIONS)}")
    item = {
        "actor": current_actor(trail.actor),
        "action": action,
        "subject": redact(subject),
        "details": canonical_json(redact(details or {})),
        "at": utc_now(),
    }
    error: Exception | None = None
    for attempt in range(ATTEMPTS):
        try:
            flush_pending(trail)
            return trail.append(**item)
        except Exception as failure:  # any failure: retried, then kept pending, then raised
            error = failure
            time.sleep(BACKOFF_S * (attempt + 1))
    path = pending_path(trail)
    path.parent.mkdir(parents=True, exist_ok=True)
    with trail.anchor.locked(), open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(item, ensure_ascii=False) + "\n")
    raise TrailWriteError(
        f"{action} of {subject} happened, but the trail could not record it ({error}); "
        f"the entry is kept in {path} and the next trail write adds it"
    )
