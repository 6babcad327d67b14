"""Experiment events: one row per bot turn (``turn``) and per resolved call (``outcome``).

Every turn the API serves becomes an :class:`Event` (who, which experiment and arm, which model
versions served it, how long each stage took, what came out); the A/B analysis reads them from
the event store (:mod:`experiments.event_store`) or, through dbt, from the warehouse
(``dbt_project/models/experiments``). The API writes them through an
:class:`experiments.event_log.EventLog`, which never blocks a request and never loses one.

``event_id`` is made by the caller (:func:`new_event_id`) and is the idempotency key: writing
the same event twice (a retry, a replayed spool) stores it once.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from core.errors import InputError

Kind = Literal["turn", "outcome"]
InputKind = Literal["audio", "text"]

#: Every column of the event schema, in table order, with its type in the event store.
COLUMN_TYPES: dict[str, str] = {
    "event_id": "text",
    "kind": "text",
    "occurred_at": "text",
    "user_id": "text",
    "session_id": "text",
    "turn_index": "int",
    "experiment": "text",
    "arm": "text",
    "versions": "text",
    "fallback": "bool",
    "language": "text",
    "input_kind": "text",
    "transcript_empty": "bool",
    "intent": "text",
    "confidence": "real",
    "handoff": "bool",
    "error": "text",
    "latency_ms": "real",
    "stt_ms": "real",
    "nlu_ms": "real",
    "dialogue_ms": "real",
    "nlg_ms": "real",
    "tts_ms": "real",
    "resolved": "bool",
    "worker": "text",
    # added later: a store or warehouse table made before gets them (ALTER TABLE), and the
    # events written before read them as null
    "audio_duration_s": "real",
    "audio_sample_rate": "int",
    "transcript_length": "int",
}
COLUMNS: tuple[str, ...] = tuple(COLUMN_TYPES)


def new_event_id() -> str:
    """A fresh idempotency key (uuid4 hex), made once per event by the caller."""
    return uuid.uuid4().hex


def utc_timestamp(moment: datetime | None = None) -> str:
    """``moment`` (default: now) as ISO 8601 UTC with microseconds: one fixed width, so the
    text sorts and compares as the time does (``since`` filters rely on it)."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        raise InputError(f"event time {moment!r} has no time zone: pass an aware datetime")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def this_worker() -> str:
    """``<pid>@<host>``: which API worker process wrote an event."""
    return f"{os.getpid()}@{socket.gethostname()}"


@dataclass(frozen=True)
class Event:
    """One experiment event, exactly the columns of the event schema.

    ``kind="turn"``: one served turn (``resolved`` stays None). ``kind="outcome"``: the end of
    a call, with ``resolved`` set (per-turn fields may stay at their defaults).
    ``versions`` maps a model family to the version that served the turn; ``fallback`` says an
    arm's version failed to load and the champion served instead; ``error`` is None when the
    turn succeeded. ``audio_duration_s`` and ``audio_sample_rate`` describe the caller's upload
    (None for text turns); ``transcript_length`` is the characters of the transcript the NLU
    read (the STT's output for audio turns). Drift compares them with the STT mart.
    """

    user_id: str
    session_id: str
    turn_index: int = 0
    kind: Kind = "turn"
    experiment: str | None = None
    arm: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    fallback: bool = False
    language: str = ""
    input_kind: InputKind = "text"
    transcript_empty: bool = False
    intent: str = ""
    confidence: float | None = None
    handoff: bool = False
    error: str | None = None
    latency_ms: float | None = None
    stt_ms: float | None = None
    nlu_ms: float | None = None
    dialogue_ms: float | None = None
    nlg_ms: float | None = None
    tts_ms: float | None = None
    resolved: bool | None = None
    event_id: str = field(default_factory=new_event_id)
    occurred_at: str = field(default_factory=utc_timestamp)
    worker: str = field(default_factory=this_worker)
    audio_duration_s: float | None = None
    audio_sample_rate: int | None = None
    transcript_length: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("turn", "outcome"):
            raise InputError(f"event {self.event_id}: kind {self.kind!r} is not turn or outcome")
        if self.input_kind not in ("audio", "text"):
            raise InputError(f"event {self.event_id}: input_kind {self.input_kind!r}")
        if (self.kind == "outcome") != (self.resolved is not None):
            raise InputError(
                f"event {self.event_id}: `resolved` is set on outcome events and only on them"
            )
        if not self.event_id:
            raise InputError("an event needs an event_id (new_event_id())")

    @classmethod
    def outcome(cls, user_id: str, session_id: str, resolved: bool, **fields: Any) -> Event:
        """The outcome event of a call: was the caller's request resolved."""
        return cls(
            user_id=user_id, session_id=session_id, kind="outcome", resolved=resolved, **fields
        )

    def to_row(self) -> tuple[Any, ...]:
        """The event as a row in :data:`COLUMNS` order (``versions`` as canonical JSON)."""
        values = asdict(self)
        values["versions"] = json.dumps(self.versions, sort_keys=True, ensure_ascii=False)
        return tuple(values[name] for name in COLUMNS)

    def to_json(self) -> str:
        """One JSON line (the spool's format)."""
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> Event:
        return cls(**json.loads(line))
