"""A wrapper of a C library that holds process-wide state (libespeak-ng, libflite): one
instance per process, made on first use, and one lock its calls hold."""

from __future__ import annotations

import threading
from typing import Any, ClassVar, Self


class ProcessWide:
    """Base of a library wrapper: :meth:`get` gives the shared instance; a subclass holds
    ``self._lock`` around every call into the library (its own lock, made per subclass)."""

    _lock: ClassVar[threading.Lock]
    _instance: ClassVar[Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._lock = threading.Lock()
        cls._instance = None

    @classmethod
    def get(cls) -> Self:
        """The shared instance (created on first use)."""
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance
