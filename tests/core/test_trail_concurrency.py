"""Appenders at once, in threads and in processes, on SQLite and on real Postgres: one chain."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.trail import check, record, verify
from core.trail.anchor import AnchorPoint
from tests.core.trail_world import append_many, make_trail
from tests.postgres import throwaway_database

PROCESSES, EACH = 4, 15


@pytest.fixture(params=["sqlite", "postgres"])
def trail_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'trail.sqlite3'}"
        return
    with throwaway_database("trail") as url:
        yield url


def test_threads_appending_at_once_keep_one_chain(trail_url, tmp_path):
    trail = make_trail(tmp_path, url=trail_url)

    def append(index: int) -> int:
        return record(trail, "publish", f"day-{index}", {"index": index}).seq

    with ThreadPoolExecutor(8) as pool:
        seqs = sorted(pool.map(append, range(40)))
    assert seqs == list(range(1, 41))
    assert check(trail) == (40, None)


@pytest.mark.parametrize("machines", [1, PROCESSES], ids=["one-anchor", "anchor-each"])
def test_processes_appending_at_once_keep_one_chain(trail_url, tmp_path, machines):
    """With an anchor each (as on separate machines), only the database's lock serializes."""
    context = multiprocessing.get_context("spawn")
    anchors = [str(tmp_path / f"anchor-{index % machines}.json") for index in range(PROCESSES)]
    workers = [
        context.Process(target=append_many, args=(trail_url, anchor, EACH)) for anchor in anchors
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    entries = list(make_trail(tmp_path, url=trail_url).entries())
    assert [e.seq for e in entries] == list(range(1, PROCESSES * EACH + 1))
    assert len({e.prev_hash for e in entries}) == len(entries)  # no entry has two successors
    last = AnchorPoint(entries[-1].seq, entries[-1].hash)
    assert verify(entries, anchor=last) is None
