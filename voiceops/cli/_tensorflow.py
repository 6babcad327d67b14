"""TensorFlow imported without its start-up chatter on the terminal.

Loading TensorFlow's C++ libraries writes, straight to file descriptor 2 and before any
log level applies, "WARNING: All log messages before absl::InitializeLog() is called are
written to STDERR" and the oneDNN notice ("oneDNN custom operations are on ..."), then the
``cpu_feature_guard`` note. :func:`import_tensorflow` sets ``TF_CPP_MIN_LOG_LEVEL`` (unless
the user set it) and imports TensorFlow with descriptor 2 passing through
:func:`tensorflow_notices_filtered`, which drops those notices and lets every other line
through, so real errors still show. oneDNN stays on (``TF_ENABLE_ONEDNN_OPTS`` is left
alone): the numbers models compute do not change.

Commands that will use TensorFlow call it first, so that nothing later (a Dagster run whose
output Dagster mirrors to the terminal, say) imports it noisily.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator
from types import ModuleType

#: TensorFlow's C++ log threshold: 2 keeps its INFO and WARNING lines off the terminal.
TF_LOG_LEVEL = "2"
#: Lines TensorFlow writes while it loads that say nothing a user can act on.
START_UP_NOTICES = (
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called"),
    re.compile(r"oneDNN custom operations are on"),
    re.compile(r"cpu_feature_guard"),
    re.compile(r"^To enable the following instructions: .*rebuild TensorFlow"),
    # at run time, on CPUs without AVX-512 ops for int32 (the default kernel is used)
    re.compile(r"oneDNN supports \S+ only on platforms with"),
)
#: The start of a TensorFlow / absl C++ log line ("E0000 00:00:... util.cc:131] ...").
CPP_LOG_PREFIX = re.compile(r"^([IWEF]\d{4} |WARNING: All log)")


def is_start_up_notice(line: str) -> bool:
    return any(pattern.search(line) for pattern in START_UP_NOTICES)


def import_tensorflow() -> ModuleType:
    """``import tensorflow`` without the start-up notices on stderr (see the module doc)."""
    loaded = sys.modules.get("tensorflow")
    if loaded is not None:
        return loaded
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", TF_LOG_LEVEL)
    with tensorflow_notices_filtered():
        import tensorflow
    return tensorflow


def _forward_without_notices(source: int, target: int) -> None:
    """Copy ``source`` to ``target`` until end of file, dropping complete notice lines.

    A fragment without its newline (a progress bar's ``\\r`` update) is forwarded at once,
    unless it starts like a C++ log line, which is held until its newline.
    """
    pending = b""
    while chunk := os.read(source, 65536):
        pending += chunk
        lines = pending.split(b"\n")
        pending = lines.pop()
        out = b"".join(
            line + b"\n"
            for line in lines
            if not is_start_up_notice(line.decode("utf-8", errors="replace"))
        )
        if pending and not CPP_LOG_PREFIX.match(pending.decode("utf-8", errors="replace")):
            out, pending = out + pending, b""
        if out:
            os.write(target, out)
    if pending and not is_start_up_notice(pending.decode("utf-8", errors="replace")):
        os.write(target, pending)


@contextlib.contextmanager
def tensorflow_notices_filtered() -> Iterator[None]:
    """File descriptor 2 through a filter that drops TensorFlow's notices (see
    :data:`START_UP_NOTICES`) for the duration of the block; everything else passes."""
    sys.stderr.flush()
    original = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    forwarder = threading.Thread(
        target=_forward_without_notices, args=(read_end, original), daemon=True
    )
    forwarder.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(original, 2)  # closes the pipe's last write end: the forwarder sees EOF
        forwarder.join(timeout=10)
        os.close(read_end)
        os.close(original)
