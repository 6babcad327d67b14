"""Processes a test starts (an API, Prometheus, a Pushgateway): wait until one answers."""

from __future__ import annotations

import subprocess
import time

import httpx


def wait_until_ready(
    process: subprocess.Popen,
    url: str,
    *,
    timeout_s: float,
    interval_s: float = 0.1,
    what: str = "the process",
) -> None:
    """Return once GET ``url`` answers 200; raise when ``process`` exits first or
    ``timeout_s`` passes (the message names ``what`` and why)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(url, timeout=max(1.0, 4 * interval_s)).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited ({process.returncode}) before {url} answered")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer {url} within {timeout_s:g} s")
        time.sleep(interval_s)
