"""The capacity model's arithmetic, and the Locust users run against a stub turn API."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench._locust import locust_installed, run_locust
from bench.capacity_model import Step, hpa_targets


def step(workers: int, turns: int, cpu_s: float, failures: int = 0) -> Step:
    return Step(workers, turns / 10, 50.0, 200.0, cpu_s, turns, failures)


def test_targets_rest_on_the_lowest_turns_per_core() -> None:
    steps = [step(1, 300, 15.0), step(2, 400, 25.0), step(4, 380, 25.0)]  # 20, 16, 15.2
    targets = hpa_targets(steps, unloaded_p99_ms=100, objective_ms=1000)
    assert targets.per_core == pytest.approx(15.2)
    assert (targets.cpu_percent, targets.bound_by) == (80, "headroom")
    assert targets.turns_per_pod == 12  # floor(0.8 * 15.2)
    assert targets.p99_at_target_ms == pytest.approx(500)
    assert targets.pods_for(30) == 3


def test_a_slow_unloaded_p99_lowers_the_utilisation_target() -> None:
    targets = hpa_targets([step(1, 200, 10.0)], unloaded_p99_ms=450, objective_ms=1000)
    assert (targets.cpu_percent, targets.bound_by) == (55, "latency")
    assert targets.turns_per_pod == 11  # floor(0.55 * 20)
    assert targets.p99_at_target_ms == pytest.approx(1000)  # at the objective, not over


def test_requests_of_two_cores_double_the_turns_per_pod() -> None:
    targets = hpa_targets([step(1, 200, 10.0)], unloaded_p99_ms=100, request_cores=2.0)
    assert targets.turns_per_pod == 32


def test_steps_failing_over_1_percent_do_not_count_and_impossible_objectives_fail() -> None:
    targets = hpa_targets([step(1, 200, 10.0), step(4, 400, 10.0, failures=5)], 100)
    assert targets.per_core == 20
    assert hpa_targets([step(4, 400, 10.0, failures=4)], 100).per_core == 40  # 4 of 404
    with pytest.raises(ValueError, match="few enough failures"):
        hpa_targets([step(4, 400, 10.0, failures=5)], 100)
    with pytest.raises(ValueError, match="objective"):
        hpa_targets([step(1, 200, 10.0)], unloaded_p99_ms=1200, objective_ms=1000)


class _StubTurnApi(BaseHTTPRequestHandler):
    """Answers a multipart WAV turn with 200, anything else with 400."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        good = self.path == "/v1/turn" and b'name="audio"' in body and b"RIFF" in body
        self.send_response(200 if good else 400)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stub_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StubTurnApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.skipif(not locust_installed(), reason="locust not installed (the bench extra)")
def test_locust_users_post_wav_turns_to_a_stub_api(stub_api: str, tmp_path: Path) -> None:
    for name in ("0_ru", "1_en"):
        (tmp_path / f"{name}.wav").write_bytes(b"RIFF" + bytes(40))
    env = {"VOICEOPS_LOCUST_SPEECH": str(tmp_path), "VOICEOPS_LOCUST_USER": "c1"}
    run = run_locust(stub_api, users=2, run_time_s=2, env=env, server_pid=os.getpid())
    assert run.turns > 10 and run.failures == 0
    assert run.turns_per_s > 0 and run.p99_ms >= run.p50_ms
