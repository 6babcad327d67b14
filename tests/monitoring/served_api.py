"""The API the end-to-end test watches: a model wrapper a fault can be planted in, an
experiment with two arms (one pinning an NLU that cannot load), simulated callers calling
over and over from a thread, and the running stack's parts."""

from __future__ import annotations

import threading
import time
import zlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from experiments.routing import Route
from tests.monitoring.prometheus_server import Prometheus

EXPERIMENT, UNSERVABLE_NLU = "e2e", 9


class PlantedFault:
    """A loaded model that answers like ``model`` until the test plants a fault in it:
    from then on every call sleeps ``delay_s`` first, or raises ``error``, or answers
    ``outputs`` (output name -> the value every item of a batch gets) instead of its own."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self.delay_s = 0.0
        self.error: Exception | None = None
        self.outputs: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._model, name)
        if name != "serve":
            return attribute

        def serve(*args: Any, **kwargs: Any) -> Any:
            if self.error is not None:
                raise self.error
            time.sleep(self.delay_s)
            answer = attribute(*args, **kwargs)
            if not self.outputs:
                return answer
            import tensorflow as tf

            planted = {k: tf.fill(tf.shape(answer[k]), v) for k, v in self.outputs.items()}
            return {**answer, **planted}

        return serve


class TwoArms:
    """Experiment ``e2e``: half the callers in ``control`` (the champions), half in
    ``candidate``, whose pinned NLU cannot be served (the champion answers: a fallback)."""

    def route(self, user_id: str, today: date) -> Route:
        if zlib.crc32(user_id.encode()) % 2:
            return Route(EXPERIMENT, "control", {})
        return Route(EXPERIMENT, "candidate", {"nlu": UNSERVABLE_NLU})

    def pinned_versions(self, today: date) -> list[tuple[str, int]]:
        return [("nlu", UNSERVABLE_NLU)]


class Traffic:
    """Simulated callers calling the API from a thread, round after round, until exit."""

    def __init__(self, url: str, sources_root: Path, concurrency: int = 4) -> None:
        self.url, self.sources_root, self.concurrency = url, sources_root, concurrency
        self.turns = 0
        self.failed_turns = 0
        # requests with no answer: uvicorn closes a keep-alive connection after a request
        # whose handler raised (a failing model), and the call's next turn finds it closed
        self.transport_errors = 0
        self.crash: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="traffic", daemon=True)

    def _loop(self) -> None:
        from serving.traffic import TrafficGenerator, TrafficPlan, customer_count

        users = 8
        rounds = max(customer_count(self.sources_root) // users, 1)
        seed = 0
        try:
            while not self._stop.is_set():
                plan = TrafficPlan(
                    users,
                    2,
                    seed=seed,
                    concurrency=self.concurrency,
                    first_user=users * (seed % rounds),
                )
                report = TrafficGenerator(self.url, plan, self.sources_root, date.today()).run()
                self.turns += report.turns
                self.failed_turns += sum(report.errors.values())
                self.transport_errors += sum(report.transport_errors.values())
                seed += 1
        except BaseException as error:  # the test reports it
            self.crash = error

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=120)
        assert not self._thread.is_alive(), "the simulated callers did not stop"


@dataclass
class Stack:
    """The API, its state, the faults it can be given and the Prometheus scraping it."""

    url: str
    state: Any
    faults: dict[str, PlantedFault]
    prometheus: Prometheus
    sources_root: Path
