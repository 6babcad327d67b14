"""Cross-request batching: batches up to the size, in order, bounded queue, errors reach
every waiting request."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from serving.batching import Batcher, BatchingOptions, Demand, Overloaded


def test_requests_arriving_together_run_as_one_batch_in_order() -> None:
    sizes = []

    def run(items):
        sizes.append(len(items))
        return [item * 2 for item in items]

    batcher = Batcher("double", run, BatchingOptions(max_batch_size=4, batch_timeout_s=0.2))

    async def many():
        return await asyncio.gather(*(batcher(i) for i in range(8)))

    assert asyncio.run(many()) == [i * 2 for i in range(8)]
    assert sizes == [4, 4] and batcher.stats.batches == 2 and batcher.stats.items == 8
    batcher.close()


def test_a_lone_request_waits_at_most_the_batch_timeout() -> None:
    batcher = Batcher("echo", lambda items: items, BatchingOptions(8, batch_timeout_s=0.05))
    start = time.perf_counter()
    assert batcher.submit("x").result(timeout=5) == "x"
    assert time.perf_counter() - start < 2  # generous: the timeout is 50 ms
    batcher.close()


def test_a_full_queue_refuses_instead_of_growing() -> None:
    gate = threading.Event()
    batcher = Batcher(
        "held",
        lambda items: (gate.wait(5), items)[1],
        BatchingOptions(max_batch_size=1, batch_timeout_s=0, max_queue=2),
    )
    first = batcher.submit(0)
    while batcher.queued:  # the worker took it and waits on the gate
        time.sleep(0.001)
    queued = [batcher.submit(1), batcher.submit(2)]
    with pytest.raises(Overloaded) as refused:
        batcher.submit(3)
    assert refused.value.retry_after_s >= 1 and batcher.stats.refused == 1
    gate.set()
    assert [f.result(timeout=5) for f in (first, *queued)] == [0, 1, 2]
    batcher.close()


def test_a_failing_batch_fails_every_request_in_it() -> None:
    def broken(items):
        raise ValueError("model exploded")

    batcher = Batcher("broken", broken, BatchingOptions(max_batch_size=4, batch_timeout_s=0.1))
    futures = [batcher.submit(i) for i in range(3)]
    for future in futures:
        with pytest.raises(ValueError, match="exploded"):
            future.result(timeout=5)
    batcher.close()


def test_a_lone_request_in_flight_does_not_wait_for_company() -> None:
    demand = Demand()
    batcher = Batcher("echo", lambda items: items, BatchingOptions(8, batch_timeout_s=5), demand)
    with demand:
        start = time.perf_counter()
        assert batcher.submit("alone").result(timeout=10) == "alone"
    assert time.perf_counter() - start < 2.5  # the 5 s batch timeout was not waited
    batcher.close()
