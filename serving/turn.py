"""One bot turn: audio or text in, the bot's answer out, through STT -> NLU -> dialogue -> NLG
-> TTS with the model versions of the caller's experiment arm.

:class:`BotChain` does not know HTTP: the API (``serving.api``), the benchmarks and the tests
call :meth:`BotChain.turn` directly. Every turn, answered or failed, is written as an event
(``experiments.events``) with the versions that served it and the time of each stage.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Protocol

import numpy as np

from experiments.events import Event, new_event_id
from registry.serving import language_of
from serving.audio_input import DecodedAudio
from serving.dialogue import DialogueAct, DialoguePolicy
from serving.metrics import ServingMetrics
from serving.metrics_names import ERROR_ACTION
from serving.model_pool import ModelPool, Selection
from serving.normalize import normalize_slots

log = logging.getLogger(__name__)

STAGES = ("stt", "nlu", "dialogue", "nlg", "tts")


class Route(Protocol):
    """Where a user is: an experiment arm's pinned versions, or nothing (champions)."""

    experiment: str | None
    arm: str | None
    versions: dict[str, int]


class Router(Protocol):
    def route(self, user_id: str, today: date) -> Route: ...


class EventSink(Protocol):
    def record(self, event: Event) -> None: ...


@dataclass(frozen=True)
class TurnInput:
    """What the caller sent in one turn (exactly one of ``text`` and ``audio``)."""

    user_id: str
    session_id: str
    text: str | None = None
    audio: DecodedAudio | None = None
    language: str | None = None  # the caller's IVR choice; None: detected from the words


@dataclass
class TurnResult:
    """The bot's answer and everything that produced it."""

    turn_id: str
    user_id: str
    session_id: str
    turn_index: int
    language: str
    transcript: str
    intent: str
    confidence: float
    slots: dict[str, Any]  # {"spoken", "canonical", "unresolved"}
    action: str  # respond | reprompt | clarify | handoff
    handoff: bool
    response_text: str
    response_audio: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    sample_rate: int = 0
    versions: dict[str, str] = field(default_factory=dict)
    experiment: str | None = None
    arm: str | None = None
    fallback: dict[str, str] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("response_audio")
        out["response_audio_seconds"] = (
            len(self.response_audio) / self.sample_rate if self.sample_rate else 0.0
        )
        return out


class BotChain:
    """The turn pipeline over a :class:`ModelPool`, a router, a dialogue policy and events."""

    def __init__(
        self,
        pool: ModelPool,
        router: Router | None,
        policy: DialoguePolicy,
        events: EventSink | None = None,
        today: Any = date.today,
        metrics: ServingMetrics | None = None,
    ) -> None:
        self.pool = pool
        self.router = router
        self.policy = policy
        self.events = events
        self.today = today
        self.metrics = metrics

    def _selection(self, user_id: str) -> tuple[Route | None, Selection]:
        route = self.router.route(user_id, self.today()) if self.router else None
        if route is None or route.experiment is None:
            return None, self.pool.champion_selection()
        selection = self.pool.select(route.versions)
        if selection is None:  # the arm's versions are still warming: champions, no exposure
            return None, self.pool.champion_selection()
        return route, selection

    async def turn(self, request: TurnInput) -> TurnResult:
        """Answer one turn; the event is written whether it succeeds or raises."""
        started = time.perf_counter()
        route, selection = self._selection(request.user_id)
        timings: dict[str, float] = {}
        event: dict[str, Any] = {
            "event_id": new_event_id(),
            "kind": "turn",
            "user_id": request.user_id,
            "session_id": request.session_id,
            "turn_index": self.policy.memory.next_turn(request.session_id),
            "experiment": route.experiment if route else None,
            "arm": route.arm if route else None,
            "versions": dict(selection.versions),
            "fallback": bool(selection.fallback),
            "input_kind": "audio" if request.audio is not None else "text",
        }
        if request.audio is not None:  # the upload as the caller sent it (drift inputs)
            event |= {
                "audio_duration_s": round(request.audio.seconds, 3),
                "audio_sample_rate": request.audio.source_rate,
            }
        action = ERROR_ACTION
        try:
            with self.pool.demand:
                result = await self._run(request, selection, timings, event)
            action = result.action
        except Exception as error:
            event |= {"error": f"{type(error).__name__}: {error}"[:500]}
            raise
        finally:
            timings["total"] = (time.perf_counter() - started) * 1000
            event |= {"latency_ms": timings["total"]}
            event |= {f"{stage}_ms": timings.get(stage) for stage in STAGES}
            if self.events is not None:
                self.events.record(Event(**event))
            self._record_metrics(request, event, selection, timings, action)
        result.experiment, result.arm = event["experiment"], event["arm"]
        result.fallback, result.latency_ms = dict(selection.fallback), timings
        return result

    def _record_metrics(
        self,
        request: TurnInput,
        event: dict[str, Any],
        selection: Selection,
        timings: dict[str, float],
        action: str,
    ) -> None:
        """The bot-level metrics of the turn (its event holds what the turn found out)."""
        if self.metrics is None:
            return
        heard = "confidence" in event and not event["transcript_empty"]
        confidence = float(event["confidence"]) if heard else None
        self.metrics.turn(
            arm=event["arm"],
            experiment=event["experiment"],
            language=event.get("language") or request.language or "unknown",
            action=action,
            confidence=confidence,
            nlu_version=selection.versions.get("nlu", ""),
            low_confidence=confidence is not None and confidence < self.policy.min_confidence,
            transcript_empty=bool(event.get("transcript_empty")),
            handoff=bool(event.get("handoff")),
            fallback_families=selection.fallback,
            timings_ms=timings,
        )

    async def _timed(self, stage: str, timings: dict[str, float], awaitable: Any) -> Any:
        start = time.perf_counter()
        try:
            return await awaitable
        finally:
            timings[stage] = (time.perf_counter() - start) * 1000

    async def _run(
        self,
        request: TurnInput,
        selection: Selection,
        timings: dict[str, float],
        event: dict[str, Any],
    ) -> TurnResult:
        models = selection.models
        if request.audio is not None:
            # the caller's IVR choice of language, when made, masks the other script
            heard = models["stt"].batcher((request.audio.waveform, request.language))
            transcript = str(await self._timed("stt", timings, heard)).strip()
        else:
            transcript = (request.text or "").strip()
        language = request.language or language_of(transcript)
        event |= {
            "language": language,
            "transcript_empty": not transcript,
            "transcript_length": len(transcript),
        }
        if transcript:
            understood = await self._timed("nlu", timings, models["nlu"].batcher(transcript))
        else:
            understood = {"intent": "out_of_scope", "confidence": 0.0, "slots": {}}
        intent, confidence = str(understood["intent"]), float(understood["confidence"])
        slots = normalize_slots(understood["slots"], language, today=self.today())
        event |= {"intent": intent, "confidence": confidence}
        start = time.perf_counter()
        act: DialogueAct = await asyncio.to_thread(  # the bank's back end is HTTP
            self.policy.decide,
            transcript=transcript,
            intent=intent,
            confidence=confidence,
            slots=slots.canonical,
            language=language,
            customer=request.user_id,
            session=request.session_id,
            today=self.today(),
        )
        timings["dialogue"] = (time.perf_counter() - start) * 1000
        event["handoff"] = act.handoff
        nlg_request = act.nlg_request(language)
        if nlg_request is None:
            text = str(act.text)
        else:
            text = str(await self._timed("nlg", timings, models["nlg"].batcher(nlg_request)))
        wave, rate = await self._timed("tts", timings, models["tts"].batcher((text, language)))
        return TurnResult(
            turn_id=event["event_id"],
            user_id=request.user_id,
            session_id=request.session_id,
            turn_index=event["turn_index"],
            language=language,
            transcript=transcript,
            intent=intent,
            confidence=confidence,
            slots={
                "spoken": slots.spoken,
                "canonical": slots.canonical,
                "unresolved": slots.unresolved,
            },
            action=act.kind,
            handoff=act.handoff,
            response_text=text,
            response_audio=np.asarray(wave, np.float32),
            sample_rate=int(rate),
            versions=selection.versions,
            reason=act.reason,
        )
