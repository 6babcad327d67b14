"""Cross-request batching, as TF Serving's batching session does it.

Requests for one model wait in a bounded queue; a worker thread takes up to
``max_batch_size`` of them, waiting at most ``batch_timeout_s`` after the first for more to
arrive (and not at all when no other request is in flight, :class:`Demand`), and runs them
through the model in one call. A full queue refuses at once
(:class:`Overloaded`, answered with 429 and ``Retry-After``) instead of growing without
bound. TensorFlow releases the GIL while it computes, so the event loop keeps accepting
requests while a batch runs.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")


class Demand:
    """How many requests are in flight upstream of the batchers (turns being answered): a
    batcher stops waiting for more requests once every one in flight is in its batch, so a
    lone caller never pays the batch timeout."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def __enter__(self) -> Demand:
        with self._lock:
            self.value += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.value -= 1


class Overloaded(RuntimeError):
    """The batch queue is full: the caller should retry after ``retry_after_s``."""

    def __init__(self, name: str, retry_after_s: float) -> None:
        super().__init__(f"{name}: the batch queue is full; retry in {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class BatchingOptions:
    """TF Serving's batching parameters (``max_batch_size``, ``batch_timeout_micros``,
    ``max_enqueued_batches`` x batch size)."""

    max_batch_size: int = 8
    batch_timeout_s: float = 0.005
    max_queue: int = 64


@dataclass
class BatchStats:
    """What a batcher has done (read by the metrics endpoint)."""

    batches: int = 0
    items: int = 0
    refused: int = 0
    queuing_s: list[float] = field(default_factory=list)  # recent per-item waits

    def record_wait(self, seconds: float) -> None:
        self.queuing_s.append(seconds)
        if len(self.queuing_s) > 1000:
            del self.queuing_s[:500]


class BatchObserver(Protocol):
    """Told what a batcher did (``serving.metrics.ModelMetrics`` records it)."""

    def ran(self, waits_s: Sequence[float], run_s: float, ok: bool) -> None: ...

    def refused(self) -> None: ...


@dataclass
class _Pending(Generic[Item, Result]):
    item: Item
    future: Future[Result]
    enqueued: float


class Batcher(Generic[Item, Result]):
    """Runs ``run(items) -> results`` (same length, same order) on batches of requests."""

    def __init__(
        self,
        name: str,
        run: Callable[[list[Item]], Sequence[Result]],
        options: BatchingOptions | None = None,
        demand: Demand | None = None,
        observer: BatchObserver | None = None,
    ) -> None:
        self.name = name
        self.demand = demand
        self.observer = observer
        self.options = options or BatchingOptions()
        self.stats = BatchStats()
        self._run = run
        self._queue: queue.Queue[_Pending[Item, Result] | None] = queue.Queue(
            self.options.max_queue
        )
        self._thread = threading.Thread(target=self._loop, name=f"batcher-{name}", daemon=True)
        self._thread.start()

    def submit(self, item: Item) -> Future[Result]:
        """Queue ``item``; its future resolves with the result. Raises :class:`Overloaded`."""
        future: Future[Result] = Future()
        try:
            self._queue.put_nowait(_Pending(item, future, time.perf_counter()))
        except queue.Full:
            self.stats.refused += 1
            if self.observer is not None:
                self.observer.refused()
            raise Overloaded(self.name, self.retry_after_s()) from None
        return future

    async def __call__(self, item: Item) -> Result:
        """``submit`` awaited from the event loop."""
        return await asyncio.wrap_future(self.submit(item))

    def retry_after_s(self) -> float:
        """Seconds until the queue has likely drained (at least 1)."""
        waits = self.stats.queuing_s[-50:]
        typical = sum(waits) / len(waits) if waits else 0.5
        return max(1.0, round(typical * 2))

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        """Stop the worker after the requests already queued."""
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _take_batch(self, first: _Pending[Item, Result]) -> tuple[list, bool]:
        batch, deadline = [first], time.perf_counter() + self.options.batch_timeout_s
        while len(batch) < self.options.max_batch_size:
            if self.demand is not None and self.demand.value <= len(batch) and self._queue.empty():
                break  # nobody else is in flight: no request can join this batch
            remaining = deadline - time.perf_counter()
            try:
                pending = (
                    self._queue.get(timeout=max(remaining, 0))
                    if remaining > 0
                    else (self._queue.get_nowait())
                )
            except queue.Empty:
                break
            if pending is None:
                return batch, True
            batch.append(pending)
        return batch, False

    def _loop(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                return
            batch, stop = self._take_batch(first)
            live = [p for p in batch if p.future.set_running_or_notify_cancel()]
            if not live:
                continue
            started = time.perf_counter()
            waits = [started - pending.enqueued for pending in live]
            for wait in waits:
                self.stats.record_wait(wait)
            ok = self._run_batch(live)
            self._observe(waits, time.perf_counter() - started, ok)

    def _run_batch(self, live: list[_Pending[Item, Result]]) -> bool:
        """Run ``live`` through the model and resolve their futures; whether it worked."""
        try:
            results = list(self._run([p.item for p in live]))
            if len(results) != len(live):
                raise RuntimeError(f"{len(results)} results for {len(live)} requests")
        except Exception as error:  # every waiting request learns why
            log.exception("%s: batch of %d failed", self.name, len(live))
            for pending in live:
                pending.future.set_exception(error)
            return False
        self.stats.batches += 1
        self.stats.items += len(live)
        for pending, result in zip(live, results, strict=True):
            pending.future.set_result(result)
        return True

    def _observe(self, waits: list[float], run_s: float, ok: bool) -> None:
        """Tell the observer, after the callers have their results (never fails the loop)."""
        if self.observer is None:
            return
        try:
            self.observer.ran(waits, run_s, ok)
        except Exception:
            log.exception("%s: recording the batch's metrics failed", self.name)
