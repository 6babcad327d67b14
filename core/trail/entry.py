"""One trail entry and its hash: SHA-256 (or HMAC-SHA256 with the trail key) over the
canonical JSON of the entry, the previous entry's hash included."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from typing import Any

#: The actions the trail records (``erasure`` is written by the privacy erasure).
ACTIONS = (
    "publish",
    "publish.refused",
    "promote",
    "promote.forced",
    "rollback",
    "challenger.withdraw",
    "experiment.decision",
    "experiment.rollout",
    "tuning.proposed",
    "erasure",
)
#: The ``prev_hash`` of the first entry.
GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text: one byte string per value, on every machine."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Entry:
    """One action: ``seq`` (1, 2, ...), ``at`` (UTC, ISO 8601), who, what, on what, details."""

    seq: int
    at: str
    actor: str
    action: str
    subject: str
    details: str  # canonical JSON, stored as written so that it hashes the same when read
    prev_hash: str
    hash: str = ""

    def body(self) -> str:
        """The canonical JSON the hash covers: every field but the hash itself."""
        fields = asdict(self)
        fields.pop("hash")
        return canonical_json(fields)

    def digest(self, key: bytes = b"") -> str:
        """This entry's hash: HMAC-SHA256 under ``key``, plain SHA-256 without one."""
        data = self.body().encode("utf-8")
        if key:
            return hmac.new(key, data, hashlib.sha256).hexdigest()
        return hashlib.sha256(data).hexdigest()

    def sealed(self, key: bytes = b"") -> Entry:
        """This entry with its hash filled in."""
        return Entry(**{**asdict(self), "hash": self.digest(key)})

    def details_dict(self) -> dict[str, Any]:
        return json.loads(self.details)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"details": self.details_dict()}
