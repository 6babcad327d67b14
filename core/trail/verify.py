"""Walk the chain and name the first entry that was edited, deleted, reordered or forged."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from core.trail.anchor import AnchorPoint
from core.trail.entry import GENESIS, Entry

Kind = Literal["edited", "deleted", "reordered", "forged", "unanchored", "pending"]


@dataclass(frozen=True)
class Problem:
    """The first bad entry (``seq``), what happened to it and why that is the verdict."""

    seq: int
    kind: Kind
    reason: str

    def describe(self) -> str:
        return f"entry #{self.seq}: {self.kind}: {self.reason}"


def _bad_hash(entry: Entry, key: bytes, seqs: range) -> Problem:
    """Why ``entry``'s hash does not match its content."""
    if key and entry.digest(b"") == entry.hash:
        return Problem(
            entry.seq,
            "forged",
            "its hash is a plain SHA-256, not keyed with the trail key (VOICEOPS_TRAIL_KEY): "
            "it was not written by the platform",
        )
    for seq in seqs:
        if seq != entry.seq and replace(entry, seq=seq).digest(key) == entry.hash:
            return Problem(entry.seq, "reordered", f"it was written as entry #{seq}")
    hint = "" if key else " (or the trail is keyed: set VOICEOPS_TRAIL_KEY)"
    return Problem(entry.seq, "edited", f"its content does not match its hash{hint}")


def _bad_link(entry: Entry, expected: str, by_hash: dict[str, Entry]) -> Problem:
    """Why ``entry`` does not follow the entry before it."""
    earlier = by_hash.get(entry.prev_hash)
    if earlier is not None:
        return Problem(
            entry.seq,
            "reordered",
            f"it was written after entry #{earlier.seq}, not #{entry.seq - 1}",
        )
    return Problem(
        entry.seq,
        "forged",
        f"its previous hash {entry.prev_hash[:12]} is not entry #{entry.seq - 1}'s "
        f"({expected[:12]}): inserted, or an entry before it was replaced",
    )


def _anchor_problem(
    last: Entry | None, anchor: AnchorPoint | None, at: dict[int, Entry]
) -> Problem | None:
    """The chain must end exactly at the anchor's entry."""
    last_seq = last.seq if last else 0
    if anchor is None:
        if last is None:
            return None
        return Problem(
            last_seq, "unanchored", "the anchor file is missing: a cut tail cannot be ruled out"
        )
    if anchor.seq > last_seq:
        return Problem(
            last_seq + 1,
            "deleted",
            f"the anchor names entry #{anchor.seq} but the trail ends at #{last_seq}: "
            "the tail was cut",
        )
    if at[anchor.seq].hash != anchor.hash:
        return Problem(
            anchor.seq, "edited", "its hash differs from the anchor's: the chain was rewritten"
        )
    if anchor.seq < last_seq:
        return Problem(
            anchor.seq + 1,
            "forged",
            f"it is after the anchor (#{anchor.seq}): not written through the trail (or a "
            "crash came between the database and the anchor)",
        )
    return None


def verify(
    entries: Iterable[Entry],
    *,
    key: bytes = b"",
    anchor: AnchorPoint | None = None,
    pending: int = 0,
) -> Problem | None:
    """The first problem of the chain ``entries`` (in ``seq`` order), None when it holds."""
    chain = list(entries)
    by_hash = {entry.hash: entry for entry in chain}
    seqs = range(1, (chain[-1].seq if chain else 0) + 1)
    expected_hash, expected_seq = GENESIS, 1
    for entry in chain:
        if entry.seq != expected_seq:
            return Problem(
                expected_seq,
                "deleted",
                f"missing: the trail jumps from #{expected_seq - 1} to #{entry.seq}",
            )
        if entry.digest(key) != entry.hash:
            return _bad_hash(entry, key, seqs)
        if entry.prev_hash != expected_hash:
            return _bad_link(entry, expected_hash, by_hash)
        expected_hash, expected_seq = entry.hash, expected_seq + 1
    problem = _anchor_problem(chain[-1] if chain else None, anchor, {e.seq: e for e in chain})
    if problem is None and pending:
        last = chain[-1].seq if chain else 0
        return Problem(
            last + 1, "pending", f"{pending} recorded action(s) not yet written to the trail"
        )
    return problem
