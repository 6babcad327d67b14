"""The per-process event writer of the API: never blocks a request, never loses an event.

One :class:`EventLog` per process (its spool files are named after the pid; see
:mod:`experiments.event_spool`), made at worker start with :meth:`EventLog.from_settings` and
closed at shutdown (:meth:`EventLog.close` flushes; an interpreter exit closes it too).
:meth:`EventLog.record` appends the event to this process's spool file
(``$VOICEOPS_HOME/experiments/spool/<host>-<pid>.jsonl``, one JSON line, flushed to the OS)
and returns: a worker killed right after keeps the event, and the request never waits for the
database. A background thread moves spooled events to the :class:`EventStore` in batches:

* it seals the spool file (renames it ``<host>-<pid>.<seq>.jsonl``, fsynced; new events go to a
  fresh file), writes the sealed file's events in batches, and deletes the file only after the
  store confirmed every batch; while the store is down or locked it retries with exponential
  backoff and the events stay on disk (``buffered``);
* the events of the file being filled are also kept in memory, up to ``max_queue``; beyond that
  the sealed file is read back from disk, so memory stays bounded and nothing is dropped.

A new :class:`EventLog` first adopts the spool files of dead processes on this host (pid no
longer running): it renames each to one of its own sealed files (an atomic claim, so two
starting workers never both take it) and writes it like its own. Delivery is at least once;
``event_id`` makes a replayed event that the dead worker had already written a no-op.

Counters (:meth:`EventLog.stats`): ``recorded`` (spooled by :meth:`record`), ``written``
(confirmed by the store: new rows plus ``duplicates`` already there), ``retries``,
``buffered`` (spooled or adopted, not yet confirmed), ``replayed`` (adopted from dead
processes), ``corrupt`` (unreadable spool lines, e.g. the torn last line of a killed
writer, whose ``record`` never returned), and ``lost``: events that could not even be
spooled; :meth:`record` then logs an error and raises :class:`EventNotSpooledError`.
:meth:`EventLog.watch` hands the counters to a watcher after every background round (the
serving API's metrics).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from core.errors import VoiceOpsError
from core.settings import Settings
from experiments.event_spool import SPOOL_NAME, process_alive, spool_dir, spooled_events
from experiments.event_store import EventStore, EventStoreError
from experiments.events import Event

log = logging.getLogger(__name__)


class EventNotSpooledError(VoiceOpsError):
    """An event could not be written to the spool file (disk full, folder gone): it is lost."""


@dataclass
class _Segment:
    """A sealed spool file waiting for the store."""

    path: Path
    count: int  # events it holds (as counted in ``buffered``)
    events: list[Event] | None  # its events when still in memory, else read from ``path``
    done: int = 0  # events of it the store confirmed


@dataclass(frozen=True)
class EventLogStats:
    recorded: int
    written: int
    duplicates: int
    retries: int
    buffered: int
    replayed: int
    corrupt: int
    lost: int


class EventLog:
    """This process's event writer (one per API worker process); see the module docstring."""

    def __init__(
        self,
        store: EventStore,
        spool: Path,
        *,
        batch_size: int = 500,
        flush_interval_s: float = 0.5,
        max_queue: int = 10_000,
        max_backoff_s: float = 30.0,
        fsync: bool = True,
        replay: bool = True,
    ):
        self.store, self.spool = store, Path(spool)
        self.batch_size, self.flush_interval_s = batch_size, flush_interval_s
        self.max_queue, self.max_backoff_s, self.fsync = max_queue, max_backoff_s, fsync
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.active_path = self.spool / f"{self.host}-{self.pid}.jsonl"
        self._lock = threading.Lock()
        self._progress = threading.Condition(self._lock)
        self._wake, self._exit = threading.Event(), threading.Event()
        self._file: IO[str] | None = None
        self._active_count = 0
        self._active_events: list[Event] | None = []
        self._in_memory = 0
        self._segments: deque[_Segment] = deque()
        self._seq = 0
        self._counts = dict.fromkeys(EventLogStats.__dataclass_fields__, 0)
        self._closed = False
        self._watcher: Callable[[EventLogStats], None] | None = None
        self.spool.mkdir(parents=True, exist_ok=True)
        self._adopt_own_files()
        if replay:
            self.replay_orphans()
        self._thread = threading.Thread(target=self._run, name="voiceops-event-log", daemon=True)
        self._thread.start()
        atexit.register(self.close, 5.0)

    @classmethod
    def from_settings(cls, settings: Settings, **options: object) -> EventLog:
        """The event log of ``settings``: its event store, its spool folder."""
        return cls(EventStore.from_settings(settings), spool_dir(settings), **options)  # type: ignore[arg-type]

    # ---- the request path ---------------------------------------------------------------
    def record(self, event: Event) -> None:
        """Spool ``event`` (append + flush to the OS); the store gets it in the background."""
        line = event.to_json() + "\n"
        with self._lock:
            if self._closed:
                raise EventNotSpooledError("the event log is closed")
            try:
                self._append(line)
            except OSError as first:
                self._close_file()  # e.g. the folder was removed: open the file again, once
                try:
                    self._append(line)
                except OSError as err:
                    self._counts["lost"] += 1
                    log.error("event %s LOST: cannot spool it: %s", event.event_id, err)
                    raise EventNotSpooledError(
                        f"event {event.event_id} could not be spooled to {self.active_path}: {err}"
                    ) from first
            self._counts["recorded"] += 1
            self._counts["buffered"] += 1
            self._active_count += 1
            if self._active_events is not None:
                if self._in_memory < self.max_queue:
                    self._active_events.append(event)
                    self._in_memory += 1
                else:  # the file is the queue from here on
                    self._in_memory -= len(self._active_events)
                    self._active_events = None
            if self._active_count >= self.batch_size:
                self._wake.set()

    def _append(self, line: str) -> None:
        if self._file is None:
            self.spool.mkdir(parents=True, exist_ok=True)
            self._file = open(self.active_path, "a", encoding="utf-8")  # noqa: SIM115
        self._file.write(line)
        self._file.flush()

    def _close_file(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    # ---- counters and shutdown ----------------------------------------------------------
    def stats(self) -> EventLogStats:
        with self._lock:
            return EventLogStats(**self._counts)

    def watch(self, watcher: Callable[[EventLogStats], None]) -> None:
        """Call ``watcher`` with the counters now and after every round of the background
        thread (every ``flush_interval_s``; the serving metrics' buffered and lost events)."""
        self._watcher = watcher
        self._report()

    def _report(self) -> None:
        if self._watcher is None:
            return
        try:
            self._watcher(self.stats())
        except Exception:  # a watcher's failure must not stop the flusher
            log.exception("event log watcher failed")

    @property
    def recorded(self) -> int:
        return self._counts["recorded"]

    @property
    def written(self) -> int:
        return self._counts["written"]

    @property
    def retries(self) -> int:
        return self._counts["retries"]

    @property
    def buffered(self) -> int:
        return self._counts["buffered"]

    @property
    def lost(self) -> int:
        return self._counts["lost"]

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every spooled event is in the store; False if ``timeout`` passed first
        (the events stay spooled)."""
        deadline = time.monotonic() + timeout
        with self._progress:
            while self._counts["buffered"] > 0:
                self._wake.set()
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._thread.is_alive():
                    return False
                self._progress.wait(min(remaining, 0.1))
        return True

    def close(self, timeout: float = 10.0) -> bool:
        """Flush (up to ``timeout``), stop the background thread, close the spool file.

        Events the store did not take in time stay in the spool; the next event log on this
        host adopts them. Returns whether everything reached the store."""
        if self._closed:
            return self._counts["buffered"] == 0
        flushed = self.flush(timeout)
        with self._lock:
            self._closed = True
            self._exit.set()
            self._wake.set()
        self._thread.join(timeout=max(1.0, self.flush_interval_s * 2))
        with self._lock:
            self._close_file()
            if self._active_count == 0:
                with contextlib.suppress(FileNotFoundError):
                    self.active_path.unlink()
        atexit.unregister(self.close)
        self.store.close()
        return flushed

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- adoption of spool files --------------------------------------------------------
    def _next_path(self) -> Path:
        self._seq += 1
        return self.spool / f"{self.host}-{self.pid}.{self._seq:08d}.jsonl"

    def _adopt(self, path: Path, *, replayed: bool) -> None:
        corrupt = [0]
        count = sum(1 for _ in spooled_events(path, corrupt))
        self._segments.append(_Segment(path, count, None))
        self._counts["buffered"] += count
        self._counts["corrupt"] += corrupt[0]
        if replayed:
            self._counts["replayed"] += count
        if count:
            log.info("adopted %d spooled events from %s", count, path.name)

    def _adopt_own_files(self) -> None:
        """Files named after this pid are a dead predecessor's (pids are reused): take them."""
        own: list[tuple[int, Path]] = []
        for path in self.spool.glob("*.jsonl"):
            match = SPOOL_NAME.match(path.name)
            if match and match["host"] == self.host and int(match["pid"]) == self.pid:
                own.append((int(match["seq"] or 0), path))
        self._seq = max((seq for seq, _ in own), default=0)
        for seq, path in sorted(own):
            if seq == 0:
                claimed = self._next_path()
                os.replace(path, claimed)
                path = claimed
            self._adopt(path, replayed=True)

    def replay_orphans(self) -> int:
        """Adopt the spool files of dead processes on this host; the number of events."""
        before = self._counts["replayed"]
        for path in sorted(self.spool.glob("*.jsonl")):
            match = SPOOL_NAME.match(path.name)
            if not match or match["host"] != self.host:
                continue
            pid = int(match["pid"])
            if pid == self.pid or process_alive(pid):
                continue
            with self._lock:
                claimed = self._next_path()
                try:
                    os.rename(path, claimed)  # the atomic claim: one adopter wins
                except FileNotFoundError:
                    continue
                self._adopt(claimed, replayed=True)
        self._wake.set()
        return self._counts["replayed"] - before

    # ---- the background thread ----------------------------------------------------------
    def _seal(self) -> None:
        """Turn the file being filled into a sealed segment (only when the store keeps up:
        while it is down, one growing file is better than a file per interval)."""
        with self._lock:
            if self._active_count == 0 or self._segments:
                return
            if self._file is not None:
                self._file.flush()
                if self.fsync:
                    os.fsync(self._file.fileno())
            self._close_file()
            path = self._next_path()
            os.replace(self.active_path, path)
            self._segments.append(_Segment(path, self._active_count, self._active_events))
            self._active_count, self._active_events = 0, []

    def _batches(self, segment: _Segment) -> Iterator[list[Event]]:
        """The segment's unconfirmed events in batches (from memory, else from its file)."""
        corrupt = [0]
        source = segment.events
        if source is None:
            source = spooled_events(segment.path, corrupt)
        batch: list[Event] = []
        for index, event in enumerate(source):
            if index < segment.done:
                continue
            batch.append(event)
            if len(batch) >= self.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _drain(self) -> bool:
        """Write sealed segments to the store; False when the store failed."""
        while self._segments:
            segment = self._segments[0]
            for batch in self._batches(segment):
                try:
                    new_rows = self.store.write(batch)
                except EventStoreError as err:
                    with self._lock:
                        self._counts["retries"] += 1
                    log.warning(
                        "event store unavailable (%d events spooled): %s", self.buffered, err
                    )
                    return False
                with self._progress:
                    segment.done += len(batch)
                    self._counts["written"] += len(batch)
                    self._counts["duplicates"] += len(batch) - new_rows
                    self._counts["buffered"] -= len(batch)
                    self._progress.notify_all()
            with self._progress:
                # lines of the segment that were unreadable never reach the store
                self._counts["buffered"] -= segment.count - segment.done
                if segment.events is not None:
                    self._in_memory -= len(segment.events)
                self._segments.popleft()
                self._progress.notify_all()
            with contextlib.suppress(FileNotFoundError):
                segment.path.unlink()
        return True

    def _run(self) -> None:
        backoff = 0.0
        while not self._exit.is_set():
            if backoff:  # the store failed: wait it out, whatever wakes us meanwhile
                self._exit.wait(backoff)
            else:
                self._wake.wait(timeout=self.flush_interval_s)
            self._wake.clear()
            if self._exit.is_set():
                break
            try:
                self._seal()
                ok = self._drain()
                if ok and self._active_count:  # sealed only now that the backlog is gone
                    self._seal()
                    ok = self._drain()
            except Exception:  # the thread must survive anything; the spool keeps the events
                log.exception("event log flusher failed; retrying")
                ok = False
            backoff = 0.0 if ok else min(self.max_backoff_s, max(0.05, backoff * 2))
            if ok and self._active_count >= self.batch_size:
                self._wake.set()
            self._report()


def replay_orphans(settings: Settings, *, timeout: float = 60.0) -> int:
    """Move the spool files of dead processes on this host into the store; the number of
    events adopted. Raises :class:`EventStoreError` if the store did not take them within
    ``timeout`` (they stay spooled for the next try)."""
    event_log = EventLog.from_settings(settings)
    replayed = event_log.stats().replayed
    if not event_log.close(timeout):
        raise EventStoreError(
            f"{event_log.buffered} spooled events are not in the event store "
            f"{event_log.store.description} yet (it keeps failing; see the log)"
        )
    return replayed
