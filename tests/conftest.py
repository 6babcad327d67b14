"""Set-up shared by every test module, and the fixture of the pipeline tests' scratch home."""

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import absl.logging
import pytest

from core.settings import Settings, get_settings

# absl (imported by TensorFlow) binds its logging handler to the stderr of the moment it is
# imported, which under pytest is a capture stream. When a Dagster job starts it runs
# logging.config.dictConfig, which closes every handler's stream: pytest's capture is then
# closed and each following test fails with "I/O operation on closed file". Bound to the
# process's real stderr, absl leaves it open (it never closes sys.__stderr__).
absl.logging.get_absl_handler().python_handler.stream = sys.__stderr__

# pytest-xdist workers (make test) start with COLUMNS=80 and LINES=24 in their environment: the
# CLI would fold its tables to 80 columns as on a terminal (voiceops.cli._output). Tests print
# as a pipe does, in a worker or not.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Point at servers or other stores: unset, the embedded engines under the scratch home serve.
SERVER_VARIABLES = (
    "DAGSTER_HOME",
    "DBT_TARGET",
    "MLFLOW_TRACKING_URI",
    "VOICEOPS_EVENTS_URL",
    "VOICEOPS_PROMETHEUS_URL",
    "VOICEOPS_QDRANT_URL",
)


#: Test directories whose conftest builds costly session fixtures (trained models, servers):
#: under xdist each runs whole on one worker, so those fixtures are built once.
SESSION_SHARING_DIRS = frozenset({"monitoring", "registry", "serving", "tuning"})


def xdist_group_of(path: Path) -> str:
    """The worker group of a test file (``make test`` runs ``-n 2 --dist loadgroup``): its
    directory for :data:`SESSION_SHARING_DIRS`, else the file itself."""
    parts = path.resolve().relative_to(REPO_ROOT / "tests").parts
    if len(parts) > 1 and parts[0] in SESSION_SHARING_DIRS:
        return parts[0]
    return "/".join(parts)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with its :func:`xdist_group_of` (ignored without ``--dist loadgroup``)."""
    for item in items:
        item.add_marker(pytest.mark.xdist_group(xdist_group_of(item.path)))


@pytest.fixture
def pipeline_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings of a scratch ``VOICEOPS_HOME`` with the embedded engines (Dagster, DuckDB,
    MLflow, the event store), no CRM server, and the Airbyte connectors shared between tests;
    set in the environment too, for the code that reads it (Dagster runs, the CLI)."""
    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VOICEOPS_LAKE_FSYNC", "false")
    monkeypatch.setenv("VOICEOPS_CRM_API_URL", "http://127.0.0.1:9")
    for name in SERVER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    shared = os.environ.get("VOICEOPS_TEST_AIRBYTE_INSTALL_DIR")
    install = Path(shared) if shared else REPO_ROOT / ".voiceops" / "airbyte-test"
    monkeypatch.setenv("AIRBYTE_INSTALL_DIR", str(install))
    get_settings.cache_clear()
    yield Settings()
    get_settings.cache_clear()
