"""TensorFlow imported without its start-up chatter on the terminal.

Loading TensorFlow's C++ libraries writes, straight to file descriptor 2 and before any
log level applies, "WARNING: All log messages before absl::InitializeLog() is called are
written to STDERR" and the oneDNN notice ("oneDNN custom operations are on ..."), then the
``cpu_feature_guard`` note. :func:`import_tensorflow` sets ``TF_CPP_MIN_LOG_LEVEL`` (unless
the user set it) and imports TensorFlow with descriptor 2 pointed at a temporary file, then
restores it and writes back every captured line that is not one of those notices, so real
errors still show. oneDNN stays on (``TF_ENABLE_ONEDNN_OPTS`` is left alone): the numbers
models compute do not change.

Commands that will use TensorFlow call it first, so that nothing later (a Dagster run whose
output Dagster mirrors to the terminal, say) imports it noisily.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from types import ModuleType

#: TensorFlow's C++ log threshold: 2 keeps its INFO and WARNING lines off the terminal.
TF_LOG_LEVEL = "2"
#: Lines TensorFlow writes while it loads that say nothing a user can act on.
START_UP_NOTICES = (
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called"),
    re.compile(r"oneDNN custom operations are on"),
    re.compile(r"cpu_feature_guard"),
    re.compile(r"^To enable the following instructions: .*rebuild TensorFlow"),
)


def is_start_up_notice(line: str) -> bool:
    return any(pattern.search(line) for pattern in START_UP_NOTICES)


def import_tensorflow() -> ModuleType:
    """``import tensorflow`` without the start-up notices on stderr (see the module doc)."""
    loaded = sys.modules.get("tensorflow")
    if loaded is not None:
        return loaded
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", TF_LOG_LEVEL)
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode("utf-8", errors="replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not is_start_up_notice(line))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()
    return tensorflow
