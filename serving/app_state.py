"""What one API worker holds: models, router, dialogue, events, response audio; and its
start-up, which loads everything in the background so ``/readyz`` can say when it is done.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from core.settings import Settings
from registry.serving import write_wav
from serving.dialogue import DialoguePolicy
from serving.metrics import ServingMetrics
from serving.model_pool import ModelPool
from serving.options import ServingOptions
from serving.turn import BotChain

log = logging.getLogger(__name__)

AUDIO_NAME = re.compile(r"^[0-9a-f]{32}\.wav$")


class AudioStore:
    """Response audio as WAV files any worker can serve; the newest ``keep`` are kept."""

    def __init__(self, directory: Path, keep: int) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.keep = keep
        self._saved = 0

    def save(self, turn_id: str, waveform: np.ndarray, sample_rate: int) -> Path:
        path = write_wav(self.directory / f"{turn_id}.wav", waveform, max(sample_rate, 1))
        self._saved += 1
        if self._saved % 50 == 0:
            self._prune()
        return path

    def find(self, name: str) -> Path | None:
        path = self.directory / name
        return path if AUDIO_NAME.match(name) and path.is_file() else None

    def _prune(self) -> None:
        """Delete all but the newest ``keep`` files; other workers prune the same directory
        at the same time, so a file gone between listing and ``stat`` is skipped."""
        aged = []
        for path in self.directory.glob("*.wav"):
            with contextlib.suppress(FileNotFoundError):
                aged.append((path.stat().st_mtime, path))
        aged.sort()
        for _, old in aged[: max(len(aged) - self.keep, 0)]:
            with contextlib.suppress(FileNotFoundError):
                old.unlink()


class ServingState:
    """A worker's serving state; :func:`build_state` fills it."""

    def __init__(self, settings: Settings, options: ServingOptions) -> None:
        self.settings = settings
        self.options = options
        self.metrics = ServingMetrics() if options.metrics else None
        self.pool = ModelPool(
            settings,
            options.batching(),
            allow_ungated=options.allow_ungated,
            metrics=self.metrics,
        )
        self.audio_store = AudioStore(settings.home / "serving" / "audio", options.audio_keep)
        self.chain: BotChain | None = None
        self.router: Any = None
        self.events: Any = None
        self.bank_server: Any = None
        self.bank: Any = None
        self.error: str | None = None
        self.started = time.time()
        self.ready = False
        self._inflight = 0
        self._closed = False
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def admit(self) -> Iterator[bool]:
        """Whether one more turn may start on this worker (``max_inflight``)."""
        with self._lock:
            admitted = self._inflight < self.options.max_inflight
            if admitted:
                self._inflight += 1
        try:
            yield admitted
        finally:
            if admitted:
                with self._lock:
                    self._inflight -= 1

    def not_ready_reason(self) -> str:
        if self.error:
            return f"not ready: {self.error}"
        return "not ready: models are loading"

    def pinned_versions(self) -> set[tuple[str, int]]:
        """Every (family, version) an active experiment arm pins."""
        if self.router is None:
            return set()
        return set(self.router.pinned_versions(date.today()))

    def readiness(self) -> dict[str, Any]:
        """Ready when every champion and every pinned version is loaded or refused."""
        pinned = self.pinned_versions() if self.ready else set()
        waiting = sorted(
            f"{name} v{version}"
            for name, version in pinned
            if (name, str(version)) not in self.pool.models
            and (name, str(version)) not in self.pool.failures
        )
        for name, version in pinned:
            self.pool.ensure(name, str(version), wait=False)
        return {
            "ready": self.ready and not waiting,
            "reason": "" if self.ready and not waiting else self.not_ready_reason(),
            "error": self.error,
            "warming": waiting,
            "champions": dict(self.pool.champions),
            "loaded": sorted(f"{n} v{v}" for n, v in self.pool.models),
            "failed": {f"{n} v{v}": f.reason for (n, v), f in self.pool.failures.items()},
        }

    def models_report(self) -> dict[str, Any]:
        report = self.readiness()
        report["models"] = [
            {
                "family": m.family,
                "version": m.version,
                "load_s": round(m.load_s, 3),
                "warm_s": round(m.warm_s, 3),
                "batches": m.batcher.stats.batches,
                "requests": m.batcher.stats.items,
                "refused": m.batcher.stats.refused,
                "queued": m.batcher.queued,
            }
            for m in self.pool.models.values()
        ]
        report["fallback_turns"] = self.pool.fallbacks
        if self.events is not None:
            report["events"] = self.events.stats().__dict__
        return report

    def record_outcome(self, user_id: str, session_id: str, resolved: bool) -> dict[str, Any]:
        """An outcome event for the user's current experiment arm."""
        from experiments.events import Event

        route = self.router.route(user_id, date.today()) if self.router else None
        event = Event.outcome(
            user_id,
            session_id,
            resolved,
            experiment=route.experiment if route else None,
            arm=route.arm if route else None,
        )
        if self.events is not None:
            self.events.record(event)
        return {"event_id": event.event_id, "experiment": event.experiment, "arm": event.arm}

    def close(self) -> None:
        """Flush the events, stop the bank service and the batchers (once)."""
        if self._closed:
            return
        self._closed = True
        if self.events is not None:
            self.events.close()
        if self.bank_server is not None:
            self.bank_server.stop()
        if self.bank is not None:
            self.bank.close()
        self.pool.close()
        if self.metrics is not None:
            self.metrics.close()

    def metrics_text(self) -> bytes | None:
        """``GET /metrics``: the loaded versions brought up to date, then every family;
        None when the metrics are off."""
        if self.metrics is None:
            return None
        self.metrics.models_loaded(list(self.pool.models), self.pool.champions)
        return self.metrics.exposition()


def _bank(state: ServingState) -> Any:
    """The bank's back end: ``bank_url``, or the simulator's service started in this worker."""
    from serving.bank_client import BankClient

    url = state.options.bank_url
    if not url:
        from ingestion.simulator.bank_service import start_in_thread

        state.bank_server, url = start_in_thread(state.settings.sources_root)
    return BankClient(url)


def connect(state: ServingState, router: Any = None) -> ServingState:
    """Wire the loaded pool to a router, the bank, the event log and the dialogue; ready."""
    from experiments.event_log import EventLog
    from serving.facts import facts_for

    state.router = router
    state.bank = _bank(state)
    state.events = EventLog.from_settings(
        state.settings, flush_interval_s=state.options.events_flush_interval_s
    )
    if state.metrics is not None:
        state.events.watch(state.metrics.events)
        state.metrics.models_loaded(list(state.pool.models), state.pool.champions)

    def facts(intent, slots, language, customer, session, today):
        return facts_for(intent, slots, language, customer, session, state.bank, today)

    policy = DialoguePolicy(facts, min_confidence=state.options.min_confidence)
    state.chain = BotChain(state.pool, router, policy, state.events, metrics=state.metrics)
    state.ready = True
    return state


def build_state(state: ServingState) -> ServingState:
    """Load champions and every experiment arm, then :func:`connect`; the state is ready at
    the end (or carries the error that kept it from being ready)."""
    from experiments.routing import Router

    try:
        started = time.perf_counter()
        champions = state.pool.load_champions()
        router = Router(state.settings)
        state.router = router
        state.pool.preload(state.pinned_versions())
        connect(state, router)
        log.info("ready in %.1f s: champions %s", time.perf_counter() - started, champions)
    except Exception as error:
        state.error = f"{type(error).__name__}: {error}".splitlines()[0]
        log.exception("the API cannot serve")
    return state
