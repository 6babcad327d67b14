"""One worker's serving metrics: what the API, the turn chain and the batchers record.

:class:`ServingMetrics` holds the metric families of :mod:`serving.metrics_names` and the
recording calls of each place that measures: ``api_turn`` (every ``POST /v1/turn``, refused
or answered, under ``model_name="voiceops-bot"``), ``turn`` (the bot-level families of an
answered or failed turn), :class:`ModelMetrics` (a batcher's model runs, queueing and
refusals) and ``events`` (the event log's buffered and lost counts). ``exposition`` is the
text ``GET /metrics`` answers (every worker's values summed in multiprocess mode, see
:mod:`serving.metrics_exposition`). ``VOICEOPS_SERVING_METRICS=0`` makes no
:class:`ServingMetrics` at all: nothing is recorded and ``/metrics`` answers 404.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.multiprocess import mark_process_dead

from serving import metrics_names as names
from serving.metrics_exposition import exposition, multiprocess_dir, scrape_collector

US = 1_000_000  # TF Serving's latencies are in microseconds


class ServingMetrics:
    """The metric families of one worker process and the calls that record them."""

    def __init__(self) -> None:
        self.directory = multiprocess_dir()
        self.registry = CollectorRegistry(auto_describe=False)
        # in multiprocess mode the values live in the workers' files, merged at scrape time
        registry = None if self.directory else self.registry
        self.request_count = Counter(
            names.REQUEST_COUNT,
            "The total number of requests.",
            ["model_name", "status"],
            registry=registry,
        )
        self.request_latency = Histogram(
            names.REQUEST_LATENCY,
            "Distribution of wall time (in microseconds) for Tensorflow Serving request.",
            ["model_name", "API", "entrypoint"],
            buckets=names.LATENCY_US_BUCKETS,
            registry=registry,
        )
        self.runtime_latency = Histogram(
            names.RUNTIME_LATENCY,
            "Distribution of wall time (in microseconds) for Tensorflow runtime.",
            ["model_name", "API", "runtime"],
            buckets=names.LATENCY_US_BUCKETS,
            registry=registry,
        )
        self.queuing_latency = Histogram(
            names.QUEUING_LATENCY,
            "Distribution of wall time spent (in microseconds) in queuing",
            ["thread_pool_name"],
            buckets=names.QUEUING_US_BUCKETS,
            registry=registry,
        )
        self.graph_runs = Counter(
            names.GRAPH_RUNS,
            "The number of graph executions (model runs, one per batch).",
            registry=registry,
        )
        self.stage_seconds = Histogram(
            names.TURN_STAGE_SECONDS,
            "Time of each stage of a turn (stt, nlu, dialogue, nlg, tts) and of the whole turn.",
            ["stage", "arm"],
            buckets=names.STAGE_SECONDS_BUCKETS,
            registry=registry,
        )
        self.intent_confidence = Histogram(
            names.INTENT_CONFIDENCE,
            "The NLU's confidence in the intent of a turn with words.",
            ["language", "arm", "nlu_version"],
            buckets=names.CONFIDENCE_BUCKETS,
            registry=registry,
        )
        self.handoffs = self._counter(names.HANDOFFS, "Turns handed to an operator.", registry)
        self.empty_transcripts = self._counter(
            names.EMPTY_TRANSCRIPTS, "Turns in which nothing was heard.", registry
        )
        self.low_confidence = self._counter(
            names.LOW_CONFIDENCE_TURNS,
            "Turns with words whose intent confidence is below min_confidence.",
            registry,
        )
        self.fallbacks = Counter(
            names.FALLBACKS,
            "Turns whose arm's pinned version could not be served: the champion served.",
            ["family", "arm"],
            registry=registry,
        )
        self.events_buffered = Gauge(
            names.EVENTS_BUFFERED,
            "Events spooled, not yet in the event store (summed over live workers).",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.events_lost = Counter(
            names.EVENTS_LOST, "Events that could not even be spooled.", registry=registry
        )
        self.exposures = Counter(
            names.EXPERIMENT_EXPOSURES,
            "Turns served by an experiment arm.",
            ["experiment", "arm"],
            registry=registry,
        )
        self.model_info = Gauge(
            names.MODEL_INFO,
            "1 for each model version a worker has loaded.",
            ["family", "version", "alias"],
            multiprocess_mode="livemax",
            registry=registry,
        )
        self.turns = Counter(
            names.TURNS,
            "Turns by the dialogue's action (error: the turn failed).",
            ["language", "arm", "action"],
            registry=registry,
        )
        self._turn_latency = self.request_latency.labels(
            names.BOT_MODEL_NAME, names.TURN_API, names.ENTRYPOINT
        )
        self._lost_seen = 0
        self._lock = threading.Lock()

    @staticmethod
    def _counter(name: str, documentation: str, registry: CollectorRegistry | None) -> Counter:
        return Counter(name, documentation, ["language", "arm"], registry=registry)

    # ---- recording -------------------------------------------------------------------------
    def model(self, model_name: str) -> ModelMetrics:
        """The recorder of one model's batcher (``model_name``: the registered name)."""
        return ModelMetrics(self, model_name)

    def api_turn(self, status: str, seconds: float) -> None:
        """One ``POST /v1/turn`` answered with TF Serving status ``status``."""
        self.request_count.labels(names.BOT_MODEL_NAME, status).inc()
        self._turn_latency.observe(seconds * US)

    def turn(
        self,
        *,
        arm: str | None,
        experiment: str | None,
        language: str,
        action: str,
        confidence: float | None,
        nlu_version: str,
        low_confidence: bool,
        transcript_empty: bool,
        handoff: bool,
        fallback_families: Iterable[str],
        timings_ms: Mapping[str, float],
    ) -> None:
        """The bot-level families of one turn (``confidence`` None: the NLU did not run)."""
        arm = arm or names.CHAMPION_ARM
        for stage, milliseconds in timings_ms.items():
            self.stage_seconds.labels(stage, arm).observe(milliseconds / 1000)
        self.turns.labels(language, arm, action).inc()
        if confidence is not None:
            self.intent_confidence.labels(language, arm, nlu_version).observe(confidence)
        if low_confidence:
            self.low_confidence.labels(language, arm).inc()
        if transcript_empty:
            self.empty_transcripts.labels(language, arm).inc()
        if handoff:
            self.handoffs.labels(language, arm).inc()
        for family in fallback_families:
            self.fallbacks.labels(family, arm).inc()
        if experiment:
            self.exposures.labels(experiment, arm).inc()

    def events(self, stats: Any) -> None:
        """The event log's counters (``experiments.event_log.EventLogStats``)."""
        self.events_buffered.set(stats.buffered)
        with self._lock:
            new_losses, self._lost_seen = stats.lost - self._lost_seen, stats.lost
        if new_losses > 0:
            self.events_lost.inc(new_losses)

    def models_loaded(self, loaded: Iterable[tuple[str, str]], champions: Mapping[str, str]):
        """``voiceops_model_info`` = 1 for each loaded (family, version); alias ``champion``
        or ``pinned`` (an experiment arm's)."""
        for family, version in loaded:
            alias = "champion" if champions.get(family) == version else "pinned"
            self.model_info.labels(family, version, alias).set(1)

    # ---- scraping and shutdown -------------------------------------------------------------
    def exposition(self) -> bytes:
        """The text ``GET /metrics`` answers (every worker's values in multiprocess mode)."""
        return exposition(scrape_collector(self.registry))

    def close(self) -> None:
        """This worker stops: its live gauges leave the sum (multiprocess mode)."""
        if self.directory is not None:
            mark_process_dead(os.getpid(), str(self.directory))


class ModelMetrics:
    """A batcher's observer: TF Serving's request, runtime and queueing families of one
    model (``serving.batching.BatchObserver``)."""

    def __init__(self, metrics: ServingMetrics, model_name: str) -> None:
        count = metrics.request_count
        self._ok = count.labels(model_name, "OK")
        self._failed = count.labels(model_name, "INTERNAL")
        self._refused = count.labels(model_name, "RESOURCE_EXHAUSTED")
        self._latency = metrics.request_latency.labels(
            model_name, names.PREDICT_API, names.ENTRYPOINT
        )
        self._runtime = metrics.runtime_latency.labels(model_name, names.PREDICT_API, names.RUNTIME)
        self._queuing = metrics.queuing_latency.labels(names.THREAD_POOL)
        self._graph_runs = metrics.graph_runs

    def ran(self, waits_s: Sequence[float], run_s: float, ok: bool) -> None:
        """One batch: each request's wait in the queue, the model's run time, success."""
        self._graph_runs.inc()
        (self._ok if ok else self._failed).inc(len(waits_s))
        for wait_s in waits_s:
            self._queuing.observe(wait_s * US)
            self._runtime.observe(run_s * US)  # each request waited for the whole batch
            self._latency.observe((wait_s + run_s) * US)

    def refused(self) -> None:
        """A request refused by a full queue."""
        self._refused.inc()
