"""A worker killed mid-turn loses no event: the turns it answered are in its spool, and the
next event log on the machine replays them into the store exactly once."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from core.settings import Settings

PROJECT = Path(__file__).resolve().parents[2]


def _turn_cut_short(url: str, customer: str) -> None:
    """A turn the worker is killed in the middle of (its connection is reset)."""
    with contextlib.suppress(httpx.HTTPError):
        httpx.post(f"{url}/v1/turn", json={"text": "hi", "user_id": customer}, timeout=30)


def test_a_worker_killed_mid_turn_loses_no_event(tiny_models, sources, customer, tmp_path):
    home = tmp_path / "home"
    paths = json.dumps({name: str(path) for name, path in tiny_models.paths.items()})
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.serving.api_process", str(home), str(sources), paths],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    try:
        url = worker.stdout.readline().strip()
        assert url.startswith("http://"), "the worker did not start"
        answered = []
        with httpx.Client(base_url=url, timeout=60) as client:
            for i in range(5):
                body = {"text": "What's my balance?", "user_id": customer, "session_id": f"k{i}"}
                response = client.post("/v1/turn", json=body)
                assert response.status_code == 200, response.text
                answered.append(response.json()["turn_id"])
        in_flight = threading.Thread(target=_turn_cut_short, args=(url, customer))
        in_flight.start()
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        in_flight.join(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()

    from experiments.event_log import EventLog

    settings = Settings(home=home, sources_dir=sources)
    spooled = list((home / "experiments" / "spool").glob("*.jsonl"))
    assert spooled, "the killed worker left its spool"
    log = EventLog.from_settings(settings)  # adopts the dead worker's spool
    log.flush(30)
    frame = log.store.read_frame()
    log.close()
    turns = frame[frame["kind"] == "turn"]
    assert set(answered) <= set(turns["event_id"])
    assert turns["event_id"].is_unique
    assert log.stats().lost == 0
