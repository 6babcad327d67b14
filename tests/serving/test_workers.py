"""Several API worker processes (uvicorn ``--workers``) serve one port; each writes its own
events, and every turn lands in the shared store exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from core.net import free_port
from core.settings import Settings
from tests.processes import wait_until_ready

PROJECT = Path(__file__).resolve().parents[2]
TURNS = 24


def test_two_workers_serve_one_port_and_lose_no_event(tiny_models, sources, customer, tmp_path):
    port, home = free_port(), tmp_path / "home"
    env = os.environ | {
        "VOICEOPS_HOME": str(home),
        "VOICEOPS_SOURCES_DIR": str(sources),
        "VOICEOPS_TEST_MODELS": json.dumps({k: str(v) for k, v in tiny_models.paths.items()}),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "bench._tiny_models:app_factory",
        "--workers",
        "2",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=PROJECT, env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(server, f"{url}/readyz", timeout_s=240, interval_s=0.5, what="the workers")

        def turn(i: int) -> dict:
            body = {"text": "What's my balance?", "user_id": customer, "session_id": f"w{i}"}
            response = httpx.post(f"{url}/v1/turn", json=body, timeout=60)
            assert response.status_code == 200, response.text
            return response.json()

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(turn, range(TURNS)))
    finally:
        server.send_signal(signal.SIGTERM)  # graceful: each worker flushes its event log
        server.wait(timeout=60)

    from experiments.event_store import EventStore

    frame = EventStore.from_settings(Settings(home=home)).read_frame()
    turns = frame[frame["kind"] == "turn"]
    assert sorted(turns["event_id"]) == sorted(a["turn_id"] for a in answers)
    assert 1 <= turns["worker"].nunique() <= 2
