"""Verify the platform's trail as it is stored: its chain, its anchor, nothing pending."""

from __future__ import annotations

from core.trail.recorder import pending_path
from core.trail.store import Trail
from core.trail.verify import Problem, verify


def pending_count(trail: Trail) -> int:
    """Entries a failed write left for the next append to write."""
    path = pending_path(trail)
    files = (path, path.with_suffix(".flushing"))
    lines = [line for f in files if f.is_file() for line in f.read_text("utf-8").splitlines()]
    return sum(1 for line in lines if line.strip())


def check(trail: Trail) -> tuple[int, Problem | None]:
    """``(entries, first problem or None)``, read under the anchor's lock so that no append
    of this machine lands between reading the anchor and reading the chain."""
    with trail.anchor.locked():
        anchor = trail.anchor.read()
        entries = list(trail.entries())
        pending = pending_count(trail)
    return len(entries), verify(entries, key=trail.key, anchor=anchor, pending=pending)
