"""The anchor: the trail's latest ``(seq, hash)`` in a file outside the database.

A chain alone cannot show that its newest entries were cut off (the shorter chain is still
a valid chain). The anchor can: ``verify`` requires the database to end exactly at the
anchor's entry. It is a file rather than a table because whoever can delete rows from the
trail's table could update a table beside it too; the file's lock also serializes the
appenders of one machine with ``verify`` (a reader never sees the database ahead of it).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AnchorPoint:
    seq: int
    hash: str


class Anchor:
    """``anchor.json`` (``{"seq": N, "hash": H}``) and its lock file beside it."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the anchor's lock (appends and verification of this anchor, one at a time)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read(self) -> AnchorPoint | None:
        if not self.path.is_file():
            return None
        data = json.loads(self.path.read_text(encoding="utf-8"))
        return AnchorPoint(int(data["seq"]), str(data["hash"]))

    def advance(self, seq: int, digest: str) -> None:
        """Point at entry ``seq`` unless the anchor is already further (hold :meth:`locked`)."""
        current = self.read()
        if current is not None and current.seq >= seq:
            return
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump({"seq": seq, "hash": digest}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(self.path)
