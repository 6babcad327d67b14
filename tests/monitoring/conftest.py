"""Fixtures of the pipeline-metrics tests: the registry tests' world (a lake with a published
and a refused ingestion, their audits) and tiny NLU models, and a real Pushgateway."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator

import pytest

from tests.processes import wait_until_ready
from tests.registry.conftest import nlu_good, nlu_rows, nlu_untrained  # noqa: F401 (fixtures)

PUSHGATEWAY = "prometheus-pushgateway"  # Debian's package (scripts/install_system_deps.sh)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def pushgateway(tmp_path_factory) -> Iterator[str]:
    """A real Pushgateway on a free loopback port; its URL."""
    binary = shutil.which(PUSHGATEWAY)
    if binary is None:
        pytest.skip(f"{PUSHGATEWAY} is not installed (bash scripts/install_system_deps.sh)")
    port = free_port()
    log = (tmp_path_factory.mktemp("pushgateway") / "log.txt").open("w")
    process = subprocess.Popen(
        [binary, f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(
            process, f"{url}/-/ready", timeout_s=20, what=f"{PUSHGATEWAY} ({log.name})"
        )
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
