"""``ProcessWide``: one instance per subclass, made once even when threads race for it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from training.common.process_wide import ProcessWide


def test_each_subclass_has_one_instance_and_its_own_lock() -> None:
    made: list[str] = []
    started = threading.Barrier(8)

    class Library(ProcessWide):
        def __init__(self) -> None:
            made.append("library")

    class Other(ProcessWide):
        pass

    def racing_get(_: int) -> Library:
        started.wait()
        return Library.get()

    with ThreadPoolExecutor(8) as pool:
        instances = list(pool.map(racing_get, range(8)))
    assert made == ["library"] and all(i is instances[0] for i in instances)
    assert Other.get() is Other.get() and Other.get() is not instances[0]
    assert Library._lock is not Other._lock and not Library._lock.locked()
