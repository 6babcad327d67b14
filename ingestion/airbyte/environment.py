"""Process environment PyAirbyte needs on these machines (offline, uv, install dir).

Call :func:`prepare` before the first ``import airbyte``: PyAirbyte reads some of these
variables at import time. Values the user already set win (except PATH, which only gains
the interpreter's bin dir so that ``uv`` is found). The connector install dir is passed to
PyAirbyte explicitly (:func:`install_dir`), so it follows ``VOICEOPS_HOME``. :func:`prepare`
then imports PyAirbyte itself, undoing what the import does to the process's logging.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from core.settings import get_settings


def airbyte_home() -> Path:
    """``$VOICEOPS_HOME/airbyte``: connector venvs, logs, work files."""
    return get_settings().home / "airbyte"


def install_dir() -> Path:
    """Connector venvs: ``AIRBYTE_INSTALL_DIR``, else ``$VOICEOPS_HOME/airbyte/connectors``."""
    configured = os.environ.get("AIRBYTE_INSTALL_DIR")
    return Path(configured).expanduser() if configured else airbyte_home() / "connectors"


def work_dir() -> Path:
    """Scratch space for sanitized copies of exports (one temp dir per sync under it)."""
    path = airbyte_home() / "work"
    path.mkdir(parents=True, exist_ok=True)
    return path


def prepare() -> None:
    """Set the variables PyAirbyte and its connectors read, then import it; idempotent."""
    defaults = {
        "AIRBYTE_OFFLINE_MODE": "1",  # no registry lookup, no telemetry
        "AIRBYTE_LOCAL_REGISTRY": "0",  # registry off even if airbyte was imported earlier
        "DO_NOT_TRACK": "1",
        "UV_COMPILE_BYTECODE": "1",  # halves connector start-up
        "AIRBYTE_LOGGING_ROOT": str(airbyte_home() / "logs"),
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + path if path else bin_dir
    import_airbyte()


def import_airbyte() -> None:
    """``import airbyte``, keeping the root logger's handlers as they were.

    Importing PyAirbyte imports ``airbyte_cdk.entrypoint``, whose ``init_logger`` runs
    ``logging.config.dictConfig``: the root logger's handlers are replaced by one writing every
    record that reaches the root as an Airbyte protocol line to the real stdout, so the rest of
    the process (e.g. dagster-dbt's "Running dbt command" in a later step) printed
    ``{"type":"LOG","log":{...}}`` lines. Records of the ``airbyte`` logger (and of the
    in-process CDK's ``airbyte.*``) still go to PyAirbyte's log files (it does not propagate);
    any other record reaching the root is handled as before the import (no handlers: warnings
    and errors on stderr).
    """
    from_before = [h for h in logging.getLogger().handlers if not _airbyte_formatted(h)]
    import airbyte  # noqa: F401

    root = logging.getLogger()
    for handler in [h for h in root.handlers if _airbyte_formatted(h)]:
        root.removeHandler(handler)
    for handler in from_before:
        if handler not in root.handlers:
            root.addHandler(handler)


def _airbyte_formatted(handler: logging.Handler) -> bool:
    """Whether ``handler`` writes Airbyte protocol messages (the CDK's root handler)."""
    cdk_logger = sys.modules.get("airbyte_cdk.logger")  # not imported: no such handler yet
    return cdk_logger is not None and isinstance(handler.formatter, cdk_logger.AirbyteLogFormatter)
