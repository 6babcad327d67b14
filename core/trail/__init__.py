"""The trail: an append-only, hash-chained record of who did what (see ``docs/trail.md``).

Every publish, refused publish, promotion, rollback, experiment decision and tuning proposal
appends an :class:`Entry`; :func:`verify` walks the chain and names the first entry that
was edited, deleted, reordered or forged.
"""

from core.trail.check import check
from core.trail.entry import ACTIONS, Entry
from core.trail.recorder import TrailWriteError, record
from core.trail.store import Trail, open_trail
from core.trail.verify import Problem, verify

__all__ = [
    "ACTIONS",
    "Entry",
    "Problem",
    "Trail",
    "TrailWriteError",
    "check",
    "open_trail",
    "record",
    "verify",
]
