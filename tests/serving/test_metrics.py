"""``GET /metrics`` after real turns over the tiny models: TF Serving's names, labels and
counts, refusals under non-OK statuses, the bot-level families, and two workers summed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from experiments.event_log import EventLogStats
from serving.batching import Batcher, BatchingOptions
from serving.metrics import ServingMetrics
from serving.model_pool import LoadFailure
from serving.options import ServingOptions
from tests.processes import wait_until_ready
from tests.serving.conftest import VERSION
from tests.serving.metrics_scrape import label_values, parse, value

PROJECT = Path(__file__).resolve().parents[2]
BOT = "voiceops-bot"
COUNT = ":tensorflow:serving:request_count"
LATENCY = ":tensorflow:serving:request_latency"
RUNTIME = ":tensorflow:serving:runtime_latency"
QUEUING = ":tensorflow:serving:batching_session:queuing_latency"
GRAPH_RUNS = ":tensorflow:core:graph_runs"


def _ran(answers: list[dict], stage: str) -> int:
    """How many of the turns ran ``stage``."""
    return sum(stage in answer["latency_ms"] for answer in answers)


def _turns(client, customer: str, count: int, prefix: str = "m") -> list[dict]:
    answers = []
    for i in range(count):
        body = {"text": "What's my balance?", "user_id": customer, "session_id": f"{prefix}{i}"}
        response = client.post("/v1/turn", json=body)
        assert response.status_code == 200, response.text
        answers.append(response.json())
    return answers


def test_turns_are_counted_under_tf_serving_names(api, customer) -> None:
    client = api()
    answers = _turns(client, customer, 3)
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    samples = parse(text)
    # the whole turn, as TF Serving counts a request
    assert value(samples, COUNT, model_name=BOT, status="OK") == 3
    assert value(samples, COUNT, model_name=BOT) == 3
    turn_latency = {"model_name": BOT, "API": "turn", "entrypoint": "REST"}
    assert value(samples, f"{LATENCY}_count", **turn_latency) == 3
    assert value(samples, f"{LATENCY}_bucket", **turn_latency, le="+Inf") == 3
    assert value(samples, f"{LATENCY}_sum", **turn_latency) >= sum(
        a["latency_ms"]["total"] * 1000 for a in answers
    )  # microseconds, and the API's time includes the chain's
    # each model once per turn that used it (text turns: no STT; NLG not for a fixed reply)
    calls = {f"voicebot-{stage}": _ran(answers, stage) for stage in ("stt", "nlu", "nlg", "tts")}
    assert calls["voicebot-stt"] == 0 and calls["voicebot-nlu"] == calls["voicebot-tts"] == 3
    for model, count in calls.items():
        assert value(samples, COUNT, model_name=model, status="OK") == count, model
        predict = {"model_name": model, "API": "predict", "entrypoint": "REST"}
        assert value(samples, f"{LATENCY}_count", **predict) == count, model
        runtime = {"model_name": model, "API": "predict", "runtime": "TF2"}
        assert value(samples, f"{RUNTIME}_count", **runtime) == count, model
    total_calls = sum(calls.values())
    assert value(samples, f"{QUEUING}_count", thread_pool_name="voiceops_turns") == total_calls
    assert 3 <= value(samples, GRAPH_RUNS) <= total_calls  # one per batch
    # verbatim: no _total on TF Serving's counters, its types, its buckets
    assert "# TYPE :tensorflow:serving:request_count counter" in text
    assert "# TYPE :tensorflow:core:graph_runs counter" in text
    assert "# TYPE :tensorflow:serving:request_latency histogram" in text
    assert ":tensorflow:serving:request_count_total" not in text
    assert "_created" not in text
    assert label_values(samples, f"{LATENCY}_bucket", "le") >= {"10.0", "188.957", "+Inf"}
    assert label_values(samples, f"{QUEUING}_bucket", "le") >= {"100.0", "1.09205e+06", "+Inf"}


def test_tf_serving_path_answers_the_same(api, customer) -> None:
    client = api()
    _turns(client, customer, 1)
    samples = parse(client.get("/monitoring/prometheus/metrics").text)
    assert value(samples, COUNT, model_name=BOT, status="OK") == 1


def test_bot_level_families_after_turns(api, make_state, customer) -> None:
    state = make_state()
    client = api(state)
    answers = _turns(client, customer, 3)
    samples = parse(client.get("/metrics").text)
    language = answers[0]["language"]
    champion = {"arm": "champion"}
    assert value(samples, "voiceops_turns_total", **champion, language=language) == 3
    actions = {a["action"] for a in answers}
    assert label_values(samples, "voiceops_turns_total", "action") == actions
    for stage in ("stt", "nlu", "dialogue", "nlg", "tts", "total"):
        ran = _ran(answers, stage)
        assert value(samples, "voiceops_turn_stage_seconds_count", stage=stage, **champion) == ran
    confidence = {"language": language, "nlu_version": VERSION, **champion}
    assert value(samples, "voiceops_intent_confidence_count", **confidence) == 3
    total_confidence = sum(a["confidence"] for a in answers)
    assert (
        abs(value(samples, "voiceops_intent_confidence_sum", **confidence) - total_confidence)
        < 1e-6
    )
    low = sum(a["confidence"] < state.options.min_confidence for a in answers)
    assert value(samples, "voiceops_low_confidence_turns_total") == low
    assert value(samples, "voiceops_handoffs_total") == sum(a["handoff"] for a in answers)
    assert value(samples, "voiceops_empty_transcripts_total") == 0
    assert value(samples, "voiceops_events_lost_total") == 0
    for family in ("stt", "nlu", "nlg", "tts"):
        info = {"family": family, "version": VERSION, "alias": "champion"}
        assert value(samples, "voiceops_model_info", **info) == 1
    # the event log reports its buffer after each background round; it drains to 0
    assert state.events.flush(10)
    deadline = time.monotonic() + 10
    while value(parse(client.get("/metrics").text), "voiceops_events_buffered") != 0:
        assert time.monotonic() < deadline, "the buffered events gauge never came back to 0"
        time.sleep(0.1)


@dataclass
class _Route:
    experiment: str | None
    arm: str | None
    versions: dict[str, int] = field(default_factory=dict)


class _OneArm:
    """Every caller in arm ``candidate`` of ``exp``, which pins an NLU that cannot load."""

    def route(self, user_id, today) -> _Route:
        return _Route("exp", "candidate", {"nlu": 9})

    def pinned_versions(self, today):
        return [("nlu", 9)]


def test_an_arm_served_by_the_champion_counts_a_fallback_and_an_exposure(
    api, make_state, customer
) -> None:
    state = make_state(router=_OneArm())
    state.pool.failures[("nlu", "9")] = LoadFailure("nlu", "9", "artifact tampered")
    client = api(state)
    answers = _turns(client, customer, 2)
    assert all(a["fallback"] == {"nlu": "v9 cannot be served (artifact tampered)"} for a in answers)
    samples = parse(client.get("/metrics").text)
    assert value(samples, "voiceops_fallbacks_total", family="nlu", arm="candidate") == 2
    assert value(samples, "voiceops_experiment_exposures_total", experiment="exp") == 2
    assert value(samples, "voiceops_turns_total", arm="candidate") == 2
    assert value(samples, "voiceops_turns_total", arm="champion") == 0


def test_refused_turns_count_under_non_ok_statuses(api, make_state, customer, tiny_models):
    from serving.model_pool import _runner

    state = make_state()
    client = api(state)
    bad_json = client.post(
        "/v1/turn", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400
    assert client.post("/v1/turn", json={"text": "", "user_id": "u"}).status_code == 422
    # a full NLU queue: 429 for the turn, RESOURCE_EXHAUSTED for the turn and the model
    gate = threading.Event()
    real = _runner("nlu", tiny_models.models["nlu"])
    blocked = Batcher(
        "nlu-v1",
        lambda items: (gate.wait(10), real(items))[1],
        BatchingOptions(max_batch_size=1, batch_timeout_s=0, max_queue=1),
        observer=state.metrics.model("voicebot-nlu"),
    )
    state.pool.models[("nlu", VERSION)].batcher = blocked
    held = blocked.submit("held by the gate")
    while blocked.queued:
        pass
    blocked.submit("fills the queue")
    full = client.post("/v1/turn", json={"text": "hi", "user_id": customer})
    assert full.status_code == 429
    gate.set()
    assert held.result(timeout=10)["intent"]
    state.ready = False
    assert client.post("/v1/turn", json={"text": "hi", "user_id": customer}).status_code == 503
    state.ready = True

    samples = parse(client.get("/metrics").text)
    assert value(samples, COUNT, model_name=BOT, status="INVALID_ARGUMENT") == 2
    assert value(samples, COUNT, model_name=BOT, status="RESOURCE_EXHAUSTED") == 1
    assert value(samples, COUNT, model_name=BOT, status="UNAVAILABLE") == 1
    assert value(samples, COUNT, model_name=BOT, status="OK") == 0
    assert value(samples, f"{LATENCY}_count", model_name=BOT, API="turn") == 4
    assert value(samples, COUNT, model_name="voicebot-nlu", status="RESOURCE_EXHAUSTED") == 1
    # the failed turn is a bot-level error turn too
    assert value(samples, "voiceops_turns_total", action="error") == 1


def test_metrics_switched_off_record_nothing(api, make_state, customer) -> None:
    state = make_state(ServingOptions(metrics=False))
    client = api(state)
    assert state.metrics is None and state.chain.metrics is None
    _turns(client, customer, 1)
    response = client.get("/metrics")
    assert response.status_code == 404 and "VOICEOPS_SERVING_METRICS" in response.json()["error"]


def test_events_lost_count_only_new_losses() -> None:
    metrics = ServingMetrics()
    stats = dict.fromkeys(EventLogStats.__dataclass_fields__, 0)
    metrics.events(EventLogStats(**stats | {"buffered": 5, "lost": 2}))
    metrics.events(EventLogStats(**stats | {"buffered": 1, "lost": 2}))
    metrics.events(EventLogStats(**stats | {"buffered": 0, "lost": 3}))
    samples = parse(metrics.exposition().decode())
    assert value(samples, "voiceops_events_lost_total") == 3
    assert value(samples, "voiceops_events_buffered") == 0


def _worker(home: Path, sources: Path, tiny_models, metrics_dir: Path) -> tuple:
    """An API worker process over the tiny models writing its metrics to ``metrics_dir`` (as
    each of ``voiceops serve --workers N`` does, on its own port here so that the test
    decides which worker answers); its URL once ready."""
    from core.net import free_port

    port = free_port()
    env = os.environ | {
        "VOICEOPS_HOME": str(home),
        "VOICEOPS_SOURCES_DIR": str(sources),
        "VOICEOPS_TEST_MODELS": json.dumps({k: str(v) for k, v in tiny_models.paths.items()}),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    command = [
        *(sys.executable, "-m", "uvicorn", "--factory", "bench._tiny_models:app_factory"),
        *("--port", str(port), "--log-level", "warning"),
    ]
    process = subprocess.Popen(command, cwd=PROJECT, env=env, stderr=subprocess.DEVNULL)
    return process, f"http://127.0.0.1:{port}"


def _wait_ready(process: subprocess.Popen, url: str) -> None:
    wait_until_ready(process, f"{url}/readyz", timeout_s=240, interval_s=0.5, what="the worker")


def test_two_workers_sum_their_metrics(tiny_models, sources, customer, tmp_path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    workers = [_worker(tmp_path / "home", sources, tiny_models, metrics_dir) for _ in range(2)]
    (_, first_url), (second, second_url) = workers
    try:
        for process, url in workers:
            _wait_ready(process, url)
        with httpx.Client(base_url=first_url, timeout=60) as client:
            _turns(client, customer, 3, "a")
        with httpx.Client(base_url=second_url, timeout=60) as client:
            _turns(client, customer, 2, "b")
        for url in (first_url, second_url):  # a scrape on either worker sums both
            samples = parse(httpx.get(f"{url}/metrics").text)
            assert value(samples, COUNT, model_name=BOT, status="OK") == 5, url
            assert value(samples, "voiceops_turns_total") == 5, url
            assert value(samples, f"{LATENCY}_count", model_name=BOT, API="turn") == 5, url
            info = {"family": "nlu", "version": VERSION, "alias": "champion"}
            assert value(samples, "voiceops_model_info", **info) == 1  # max, not summed
        # a killed worker's counts stay (counters never go back); its live gauges go
        second.send_signal(signal.SIGKILL)
        second.wait(timeout=30)
        assert list(metrics_dir.glob(f"gauge_live*_{second.pid}.db"))
        samples = parse(httpx.get(f"{first_url}/metrics").text)
        assert value(samples, COUNT, model_name=BOT, status="OK") == 5
        assert not list(metrics_dir.glob(f"gauge_live*_{second.pid}.db"))
    finally:
        for process, _ in workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # graceful: the worker drops its gauges
                process.wait(timeout=60)
    assert not list(metrics_dir.glob("gauge_live*.db")), "a worker left its live gauges"


def test_serve_gives_its_workers_a_fresh_metrics_dir_and_removes_it() -> None:
    from serving.metrics_exposition import MULTIPROC_ENV, shared_metrics_dir

    before = os.environ.get(MULTIPROC_ENV)
    with shared_metrics_dir() as directory:
        assert os.environ[MULTIPROC_ENV] == str(directory)
        assert directory.is_dir() and not list(directory.iterdir())
        (directory / "counter_1.db").write_bytes(b"")
    assert not directory.exists()
    assert os.environ.get(MULTIPROC_ENV) == before
