"""The event log: nothing lost when the store is down, when memory is full, or when the writing
process is killed; the counters say where every event is."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import socket
from pathlib import Path

import pytest

from core.net import free_port
from experiments.event_log import EventLog, EventNotSpooledError
from experiments.event_spool import process_alive
from experiments.event_store import PostgresEventStore, SQLiteEventStore
from experiments.events import Event

KILLED_AFTER = 700


def turn(index: int) -> Event:
    return Event(
        user_id=f"user-{index % 5}",
        session_id=f"call-{index}",
        turn_index=index,
        experiment="stack-ab",
        arm="b" if index % 2 else "a",
        versions={"nlu": "3"},
        confidence=0.9,
        latency_ms=100.0,
    )


def spooled_lines(spool: Path) -> int:
    return sum(len(path.read_text().splitlines()) for path in spool.glob("*.jsonl"))


def dead_pid() -> int:
    """The pid of a process that ran and exited (reaped)."""
    process = multiprocessing.get_context("spawn").Process(target=int)
    process.start()
    process.join()
    assert not process_alive(process.pid)
    return process.pid


def test_store_down_buffers_in_the_spool_then_writes_when_it_is_back(tmp_path: Path) -> None:
    blocker = tmp_path / "store"  # a file where the store's folder should be: cannot open
    blocker.write_text("not a folder")
    store = SQLiteEventStore(blocker / "events.sqlite3")
    spool = tmp_path / "spool"
    event_log = EventLog(store, spool, batch_size=20, flush_interval_s=0.01, max_backoff_s=0.05)
    events = [turn(i) for i in range(120)]
    for event in events:
        event_log.record(event)
    assert not event_log.flush(timeout=0.5)
    stats = event_log.stats()
    assert (stats.recorded, stats.written, stats.buffered, stats.lost) == (120, 0, 120, 0)
    assert stats.retries > 0
    assert spooled_lines(spool) == 120

    blocker.unlink()  # the store comes back
    assert event_log.flush(timeout=10)
    stats = event_log.stats()
    assert (stats.written, stats.buffered, stats.lost, stats.duplicates) == (120, 0, 0, 0)
    assert event_log.close()
    assert sorted(store.read_frame()["event_id"]) == sorted(e.event_id for e in events)
    assert not list(spool.glob("*.jsonl"))


def test_postgres_down_leaves_the_spool_to_the_next_event_log(tmp_path: Path) -> None:
    closed = PostgresEventStore(f"postgresql://postgres@127.0.0.1:{free_port()}/events")
    spool = tmp_path / "spool"
    event_log = EventLog(closed, spool, flush_interval_s=0.01, max_backoff_s=0.05)
    for i in range(50):
        event_log.record(turn(i))
    assert not event_log.close(timeout=0.5)  # shut down with the store still down
    assert (event_log.buffered, event_log.lost, event_log.written) == (50, 0, 0)
    assert event_log.retries > 0 and spooled_lines(spool) == 50

    store = SQLiteEventStore(tmp_path / "events.sqlite3")  # the next start of this worker
    with EventLog(store, spool, flush_interval_s=0.01) as successor:
        assert successor.stats().replayed == 50
        assert successor.flush(10)
    assert store.count() == 50 and not list(spool.glob("*.jsonl"))


def test_memory_is_bounded_and_the_overflow_stays_on_disk(tmp_path: Path) -> None:
    blocker = tmp_path / "store"
    blocker.write_text("")
    store = SQLiteEventStore(blocker / "events.sqlite3")
    event_log = EventLog(
        store, tmp_path / "spool", max_queue=100, flush_interval_s=0.01, max_backoff_s=0.05
    )
    for i in range(2000):
        event_log.record(turn(i))
    assert event_log._in_memory <= 100
    assert event_log.buffered == 2000 and spooled_lines(tmp_path / "spool") == 2000
    blocker.unlink()
    assert event_log.close(timeout=20)
    assert store.count() == 2000 and event_log.written == 2000 and event_log.lost == 0


def test_an_event_that_cannot_be_spooled_is_counted_lost_and_raises(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    event_log = EventLog(SQLiteEventStore(tmp_path / "events.sqlite3"), spool)
    event_log.record(turn(0))
    assert event_log.flush(10)
    event_log._close_file()
    shutil.rmtree(spool)
    spool.write_text("a file where the spool folder was")
    with pytest.raises(EventNotSpooledError):
        event_log.record(turn(1))
    assert (event_log.lost, event_log.recorded) == (1, 1)
    spool.unlink()
    event_log.close()


def _record_then_wait(spool: str, database: str, ready: multiprocessing.synchronize.Event) -> None:
    """A worker whose flusher never runs in time: it records, says so, and waits to be killed."""
    event_log = EventLog(
        SQLiteEventStore(Path(database)), Path(spool), flush_interval_s=3600, batch_size=10**6
    )
    event_log.store.write([turn(-1)])  # the store is up: the events are merely not flushed yet
    for i in range(KILLED_AFTER):
        event_log.record(turn(i))
    ready.set()
    signal.pause()


def test_a_killed_worker_loses_nothing_and_its_spool_is_replayed_once(tmp_path: Path) -> None:
    spool, database = tmp_path / "spool", tmp_path / "events.sqlite3"
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Event()
    worker = spawn.Process(target=_record_then_wait, args=(str(spool), str(database), ready))
    worker.start()
    assert ready.wait(120)
    os.kill(worker.pid, signal.SIGKILL)
    worker.join()
    store = SQLiteEventStore(database)
    assert store.count() == 1  # nothing of the recorded events reached the store
    assert spooled_lines(spool) == KILLED_AFTER

    # a few had reached the store after all (e.g. a batch confirmed just before the kill)
    spooled = [line for path in spool.glob("*.jsonl") for line in path.read_text().splitlines()]
    store.write(Event.from_json(line) for line in spooled[:100])
    with EventLog(store, spool, flush_interval_s=0.01) as successor:
        assert successor.stats().replayed == KILLED_AFTER
        assert successor.flush(10)
        stats = successor.stats()
    assert (stats.written, stats.duplicates, stats.lost) == (KILLED_AFTER, 100, 0)
    frame = store.read_frame()
    assert len(frame) == KILLED_AFTER + 1 and frame["event_id"].is_unique
    assert sorted(frame["turn_index"]) == list(range(-1, KILLED_AFTER))
    assert not list(spool.glob("*.jsonl"))


def test_a_torn_last_line_is_skipped_and_counted(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    lines = "".join(turn(i).to_json() + "\n" for i in range(3))
    orphan = spool / f"{socket.gethostname()}-{dead_pid()}.jsonl"
    orphan.write_text(lines + turn(3).to_json()[:40])  # killed while writing the 4th
    store = SQLiteEventStore(tmp_path / "events.sqlite3")
    with EventLog(store, spool, flush_interval_s=0.01) as successor:
        assert successor.flush(10)
        stats = successor.stats()
    assert (stats.replayed, stats.corrupt, stats.buffered, store.count()) == (3, 1, 0, 3)


def test_spools_of_live_processes_are_left_alone(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    live = spool / f"{socket.gethostname()}-{os.getppid()}.jsonl"
    live.write_text(turn(0).to_json() + "\n")
    with EventLog(SQLiteEventStore(tmp_path / "e.sqlite3"), spool) as event_log:
        assert event_log.stats().replayed == 0
    assert live.is_file()
