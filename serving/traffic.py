"""Simulated callers driving the turn API: the simulator's customers say the simulator's
utterances (as text, or as espeak audio on a phone line), then report how the call ended.

A call is resolved with a probability that depends on whether the bot understood the caller
(the generator knows the true intent of every utterance) and answered what was asked (the
response is closest to the phrasings of that intent, :mod:`serving.answer_fit`: a wrong
NLG counts like a wrong NLU), plus a planted ``effect`` for the
callers a given arm served: the configurable true difference between arms an experiment must
find. Refusals with ``Retry-After`` (429/503) are retried after the delay the API asked for;
anything else is counted as an error, never hidden: an answered error by its status and
reason, a request that got no answer (a connection refused, reset or closed: a transport
error) by its kind; either way the caller goes on with the next turn.
"""

from __future__ import annotations

import random
import sqlite3
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from core.errors import InputError
from core.language import INTENT_WEIGHTS, utterance
from serving.answer_fit import answered_intent
from serving.client import TurnClient, TurnRefused

#: Chance that a call is resolved when the bot understood every turn / missed one.
RESOLVED_WHEN_UNDERSTOOD = 0.7
RESOLVED_WHEN_MISSED = 0.3
MAX_RETRIES = 5


@dataclass(frozen=True)
class TrafficPlan:
    """Who calls, how much, and the planted effect."""

    users: int
    turns: int
    seed: int = 0
    audio_share: float = 0.0  # share of turns sent as audio (espeak, phone line)
    effect: float = 0.0  # added to the resolution chance of callers served by effect_arm
    effect_arm: str = "candidate"
    concurrency: int = 4
    ru_share: float = 0.5
    first_user: int = 0  # callers are the CRM's customers from this one on (in id order)


@dataclass
class TrafficReport:
    """What the simulated callers experienced, per arm."""

    turns: int = 0
    calls: int = 0
    retries: int = 0
    errors: Counter = field(default_factory=Counter)  # "HTTP 500: ..." -> count
    transport_errors: Counter = field(default_factory=Counter)  # "ReadError" -> count
    by_arm: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    latency_ms: list[float] = field(default_factory=list)
    example: dict[str, Any] | None = None
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        arms = {}
        for arm, counts in sorted(self.by_arm.items()):
            arms[arm] = {
                "calls": counts["calls"],
                "turns": counts["turns"],
                "understood": round(counts["understood"] / max(counts["turns"], 1), 3),
                "resolved": round(counts["resolved"] / max(counts["calls"], 1), 3),
                "handoffs": counts["handoffs"],
            }
        ordered = sorted(self.latency_ms)
        return {
            "calls": self.calls,
            "turns": self.turns,
            "retries": self.retries,
            "errors": dict(self.errors),
            "transport_errors": sum(self.transport_errors.values()),
            "transport_errors_by_kind": dict(self.transport_errors),
            "turns_per_s": round(self.turns / self.seconds, 2) if self.seconds else 0.0,
            "latency_ms_p50": round(ordered[len(ordered) // 2], 1) if ordered else None,
            "latency_ms_p99": round(ordered[int(len(ordered) * 0.99)], 1) if ordered else None,
            "arms": arms,
        }


def customer_count(sources_root: Path) -> int:
    """How many customers the simulated CRM has (0 without a CRM)."""
    database = Path(sources_root) / "crm" / "crm.sqlite3"
    if not database.is_file():
        return 0
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM customers").fetchone()[0])


def customers(sources_root: Path, count: int, offset: int = 0) -> list[str]:
    """``count`` customer ids of the simulated CRM in id order, from the ``offset``-th on."""
    database = Path(sources_root) / "crm" / "crm.sqlite3"
    if not database.is_file():
        raise InputError(f"{database}: no simulated CRM; run `voiceops simulate day` first")
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT customer_id FROM customers ORDER BY customer_id LIMIT ? OFFSET ?",
            (count, offset),
        ).fetchall()
    if len(rows) < count:
        raise InputError(
            f"{database}: users: {count} asked from the {offset}-th on, the CRM has "
            f"{offset + len(rows)} customers"
        )
    return [row[0] for row in rows]


def _speech(text: str, language: str, rng: random.Random, workdir: Path) -> bytes:
    from core.audio import render_speech
    from core.voices import speakers

    speaker = rng.choice([s for s in speakers(language) if s.held_out] or speakers(language))
    path = workdir / f"{rng.getrandbits(64):016x}.wav"
    render_speech(text, speaker, path)
    return path.read_bytes()


class TrafficGenerator:
    """Runs a :class:`TrafficPlan` against the API at ``url``."""

    def __init__(self, url: str, plan: TrafficPlan, sources_root: Path, today: date) -> None:
        self.url, self.plan, self.today = url, plan, today
        self.users = customers(sources_root, plan.users, plan.first_user)
        self.report = TrafficReport()
        self._lock = threading.Lock()
        intents = sorted(INTENT_WEIGHTS)
        self._intents, self._weights = intents, [INTENT_WEIGHTS[i] for i in intents]

    def _send(self, client: TurnClient, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        for _ in range(MAX_RETRIES):
            try:
                return call()
            except TurnRefused as error:
                if error.status not in (429, 503) or error.retry_after is None:
                    raise
                with self._lock:
                    self.report.retries += 1
                time.sleep(min(error.retry_after, 5.0))
        return call()

    def _count_failure(self, error: TurnRefused | httpx.TransportError) -> None:
        """An answered error by its text, a transport error (no answer) by its kind."""
        with self._lock:
            if isinstance(error, httpx.TransportError):
                self.report.transport_errors[type(error).__name__] += 1
            else:
                self.report.errors[str(error)[:120]] += 1

    def _call(self, index: int, user: str, workdir: Path) -> None:
        plan = self.plan
        rng = random.Random(f"{plan.seed}:{user}")
        language = "ru" if rng.random() < plan.ru_share else "en"
        session = f"sim-{plan.seed}-{index:06d}"
        understood_all, arm, answers = True, None, []
        with TurnClient(self.url) as client:
            for _ in range(plan.turns):
                said = utterance(
                    rng.choices(self._intents, self._weights)[0], language, rng, self.today
                )
                audio = (
                    _speech(said.text, language, rng, workdir)
                    if rng.random() < plan.audio_share
                    else None
                )
                try:
                    answer = self._send(
                        client,
                        lambda s=said, a=audio: client.turn(
                            user, session, text=None if a else s.text, audio=a, language=language
                        ),
                    )
                except (TurnRefused, httpx.TransportError) as error:
                    self._count_failure(error)
                    continue
                answers.append(answer)
                arm = answer["arm"] or "champion"
                understood = answer["intent"] == said.intent
                misanswered = (
                    understood
                    and answer.get("action") == "respond"
                    and answered_intent(answer["response_text"], language) != said.intent
                )
                understood = understood and not misanswered
                understood_all &= understood
                with self._lock:
                    counts = self.report.by_arm[arm]
                    counts["turns"] += 1
                    counts["understood"] += understood
                    counts["misanswered"] += misanswered
                    counts["handoffs"] += answer["handoff"]
                    self.report.turns += 1
                    self.report.latency_ms.append(answer["latency_ms"]["total"])
                    if self.report.example is None:
                        self.report.example = answer | {"truth": said.intent}
            if arm is None:
                return
            chance = RESOLVED_WHEN_UNDERSTOOD if understood_all else RESOLVED_WHEN_MISSED
            if arm == plan.effect_arm:
                chance = min(max(chance + plan.effect, 0.0), 1.0)
            resolved = rng.random() < chance
            try:
                self._send(client, lambda: client.outcome(user, session, resolved))
            except (TurnRefused, httpx.TransportError) as error:
                self._count_failure(error)
                return
        with self._lock:
            self.report.calls += 1
            self.report.by_arm[arm]["calls"] += 1
            self.report.by_arm[arm]["resolved"] += resolved

    def run(self) -> TrafficReport:
        """Every user makes one call of ``turns`` turns, ``concurrency`` calls at a time."""
        started = time.perf_counter()
        with (
            tempfile.TemporaryDirectory(prefix="voiceops-traffic-") as workdir,
            ThreadPoolExecutor(max(self.plan.concurrency, 1)) as pool,
        ):
            futures = [
                pool.submit(self._call, i, user, Path(workdir)) for i, user in enumerate(self.users)
            ]
            for future in futures:
                future.result()
        self.report.seconds = time.perf_counter() - started
        return self.report
