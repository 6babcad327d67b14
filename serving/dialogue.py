"""The dialogue policy: what the bot does with one understood turn.

* Nothing heard (empty transcript): ask again; the second time in a row, hand off.
* Intent unclear (confidence below ``min_confidence``): ask to rephrase; the second time in
  a row, hand off.
* ``talk_to_operator``: hand off, telling the caller the queue's wait (from the bank).
* Anything else (``out_of_scope`` included): NLG answers the intent with the canonical slots
  and the facts the bank's back end gives for it (balance, rates, branch, ticket...).
* The back end unavailable or refusing the customer: say so and hand off.

Hand-off is a real response: the caller is told they are being connected, and the turn is
marked ``handoff`` so the operator queue and the experiment metrics see it. The count of
misunderstood turns is kept per session in the worker (bounded, least recently used out).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from core.errors import VoiceOpsError
from core.language import phrasebook

HANDOFF_INTENT = "talk_to_operator"
MAX_SESSIONS = 10_000

Facts = Callable[[str, dict[str, Any], str, str, str, date], dict[str, str]]


@dataclass(frozen=True)
class DialogueAct:
    """The bot's move: a fixed line (``text``) or an NLG request (intent, slots, facts)."""

    kind: Literal["respond", "reprompt", "clarify", "handoff"]
    intent: str
    slots: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)
    text: str | None = None  # set when the dialogue speaks without NLG
    reason: str = ""

    @property
    def handoff(self) -> bool:
        return self.kind == "handoff"

    def nlg_request(self, language: str) -> dict[str, Any] | None:
        """What NLG is asked, or None when the dialogue speaks a fixed line."""
        if self.text is not None:
            return None
        return {
            "language": language,
            "intent": self.intent,
            "slots": self.slots,
            "facts": self.facts,
        }


class SessionMemory:
    """Misunderstood turns in a row, per session (bounded LRU, thread-safe)."""

    def __init__(self, capacity: int = MAX_SESSIONS) -> None:
        self._misses: OrderedDict[str, int] = OrderedDict()
        self._turns: OrderedDict[str, int] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def _touch(self, table: OrderedDict[str, int], session: str, value: int) -> int:
        table[session] = value
        table.move_to_end(session)
        while len(table) > self._capacity:
            table.popitem(last=False)
        return value

    def next_turn(self, session: str) -> int:
        """This session's turn number (1-based) in this worker."""
        with self._lock:
            return self._touch(self._turns, session, self._turns.get(session, 0) + 1)

    def missed(self, session: str) -> int:
        """Record a misunderstood turn; returns how many in a row."""
        with self._lock:
            return self._touch(self._misses, session, self._misses.get(session, 0) + 1)

    def understood(self, session: str) -> None:
        with self._lock:
            self._misses.pop(session, None)


class DialoguePolicy:
    """Decides each turn's :class:`DialogueAct`; ``facts`` asks the bank's back end."""

    def __init__(
        self,
        facts: Facts,
        *,
        min_confidence: float = 0.45,
        misses_before_handoff: int = 2,
        memory: SessionMemory | None = None,
    ) -> None:
        self.facts = facts
        self.min_confidence = min_confidence
        self.misses_before_handoff = misses_before_handoff
        self.memory = memory or SessionMemory()

    def _line(self, language: str, name: str) -> str:
        return str(phrasebook(language)["dialogue"][name])

    def _handoff(self, language: str, customer: str, session: str, today: date, why: str):
        try:
            facts = self.facts(HANDOFF_INTENT, {}, language, customer, session, today)
        except VoiceOpsError as error:
            return DialogueAct(
                "handoff",
                HANDOFF_INTENT,
                text=self._line(language, "backend_down"),
                reason=f"{why}; back end: {error}",
            )
        return DialogueAct("handoff", HANDOFF_INTENT, {}, facts, reason=why)

    def decide(
        self,
        *,
        transcript: str,
        intent: str,
        confidence: float,
        slots: dict[str, Any],
        language: str,
        customer: str,
        session: str,
        today: date,
    ) -> DialogueAct:
        """The act for one turn of ``session`` by ``customer``."""
        if not transcript.strip() or confidence < self.min_confidence:
            kind, why = (
                ("reprompt", "nothing was heard")
                if not transcript.strip()
                else ("clarify", f"intent {intent} at confidence {confidence:.2f}")
            )
            if self.memory.missed(session) >= self.misses_before_handoff:
                return self._handoff(language, customer, session, today, f"{why}, again")
            return DialogueAct(kind, intent, text=self._line(language, kind), reason=why)
        self.memory.understood(session)
        if intent == HANDOFF_INTENT:
            return self._handoff(language, customer, session, today, "the caller asked")
        try:
            facts = self.facts(intent, slots, language, customer, session, today)
        except VoiceOpsError as error:
            return DialogueAct(
                "handoff",
                intent,
                slots,
                text=self._line(language, "backend_down"),
                reason=f"back end: {error}",
            )
        return DialogueAct("respond", intent, slots, facts)
