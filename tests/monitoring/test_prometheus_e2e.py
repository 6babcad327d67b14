"""A real Prometheus scrapes the serving API under simulated traffic: the dashboards'
queries return data, and a planted fault makes the matching production alert go active.

The API serves the tiny models of all four families in this process (a uvicorn thread);
simulated callers (:mod:`serving.traffic`) call it from a thread; Debian's ``prometheus``
scrapes it every second with the project's rule files (see
:mod:`tests.monitoring.prometheus_server`: groups evaluated every second, nothing else
changed). The alerts' ``for`` durations (5 and 10 minutes) are not waited out: a test
checks that the alert's expression holds and the alert is ``pending``, i.e. that the
production rule became active on the real scraped series; that ``pending`` turns into
``firing`` after ``for`` is covered by the promtool unit tests (monitoring/prometheus/tests).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from serving.dialogue import HANDOFF_INTENT
from serving.model_pool import LoadFailure
from serving.options import ServingOptions
from tests.monitoring.names import (
    RULES,
    dashboard_queries,
    metric_names,
    metrics,
    tool,
)
from tests.monitoring.prometheus_server import Prometheus
from tests.monitoring.served_api import UNSERVABLE_NLU, PlantedFault, Stack, Traffic, TwoArms
from tests.serving.conftest import VERSION, bank_url, make_state, sources, tiny_models  # noqa: F401

pytestmark = pytest.mark.slow

#: dashboards whose panels read what the API serves
SCRAPED_DASHBOARDS = ("voiceops-serving.json", "voiceops-models.json")
#: the other two (voiceops-pipeline, voiceops-training) read only what the Dagster runs and
#: training push to the Pushgateway (tests/monitoring/test_pipeline_metrics.py pushes them);
#: on the scraped dashboards, these panels do too
PUSHED_PANELS = {
    "Drift of production inputs (alert: PSI over 0.25, KS over 0.2)": (
        "voiceops_drift_score is exported with the pipeline metrics (Pushgateway), not by the API"
    ),
}
SERVING_ALERTS = (
    "TensorFlowModelRequestHighErrorRate",
    "TensorFlowModelRequestQueuingLatency",
    "VoiceOpsTurnLatencyP99OverSLO",
    "VoiceOpsEventsLost",
)
BOT = "voiceops-bot"
#: healthy turns Prometheus must have seen before a fault is planted
HEALTHY_TURNS = 24
#: how long an expected change may take to show (scrape + evaluation are 1 s each)
WAIT_S = 60


@pytest.fixture(scope="session")
def prometheus_binary() -> str:
    """Skips (or fails, in CI) before the models are trained when there is no prometheus."""
    return tool("prometheus")


@pytest.fixture
def start_stack(
    prometheus_binary,
    make_state,  # noqa: F811
    tiny_models,  # noqa: F811
    sources,  # noqa: F811
    tmp_path,
) -> Iterator[Callable[..., Stack]]:
    """``start_stack(options=None)``: the API over the tiny models (NLU and TTS behind
    :class:`PlantedFault`, experiment :class:`TwoArms`) and a Prometheus scraping it; both
    stopped at teardown."""
    from serving.api import ThreadedServer, create_app

    started: list[tuple[ThreadedServer, Prometheus]] = []

    def start(options: ServingOptions | None = None) -> Stack:
        state = make_state(options, TwoArms())
        failure = LoadFailure("nlu", str(UNSERVABLE_NLU), "not in this test's registry")
        state.pool.failures[("nlu", str(UNSERVABLE_NLU))] = failure
        faults = {}
        for family in ("nlu", "tts"):
            plain = state.pool.models[(family, VERSION)].batcher
            faults[family] = PlantedFault(tiny_models.models[family])
            state.pool.install(family, VERSION, faults[family], champion=True)
            plain.close()
        server = ThreadedServer(create_app(state.settings, state.options, state=state))
        server.__enter__()
        workdir = tmp_path / f"prometheus{len(started)}"
        workdir.mkdir()
        try:
            prometheus = Prometheus(server.url.removeprefix("http://"), workdir).__enter__()
        except BaseException:
            server.__exit__(None, None, None)
            raise
        started.append((server, prometheus))
        return Stack(server.url, state, faults, prometheus, sources)

    yield start
    for server, prometheus in started:
        prometheus.__exit__(None, None, None)
        server.__exit__(None, None, None)


def wait_for(what: str, check: Callable[[], Any], prometheus: Prometheus, traffic: Traffic) -> Any:
    """``check()``'s first truthy value within :data:`WAIT_S`; a failure naming ``what``."""
    deadline = time.monotonic() + WAIT_S
    while True:
        assert traffic.crash is None, f"the simulated callers crashed: {traffic.crash!r}"
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {WAIT_S} s\n{prometheus.log()}"
        time.sleep(0.5)


def scraped_turns(prometheus: Prometheus, status: str = "OK") -> float:
    """Whole turns with ``status`` Prometheus has scraped (0 before the first)."""
    result = prometheus.query(
        f'sum(:tensorflow:serving:request_count{{model_name="{BOT}", status="{status}"}})'
    )
    return float(result[0]["value"][1]) if result else 0.0


def active(prometheus: Prometheus, alert: str) -> list[dict[str, Any]]:
    return [a for a in prometheus.alerts() if a["labels"]["alertname"] == alert]


def assert_quiet(prometheus: Prometheus, alerts: tuple[str, ...]) -> None:
    """None of ``alerts`` is pending or firing, and each one's expression is empty."""
    for alert in alerts:
        assert not active(prometheus, alert), alert
        assert not prometheus.query(prometheus.alerting_rule(alert)["query"]), alert


def pending(prometheus: Prometheus, alert: str, label: str) -> dict[str, str]:
    """``{label value: state}`` of the active alerts named ``alert``."""
    return {a["labels"].get(label, ""): a["state"] for a in active(prometheus, alert)}


def handoff_ratios(prometheus: Prometheus) -> dict[str, float]:
    """``{arm: share of its turns handed to an operator}``, as the rules recorded it."""
    result = prometheus.query("arm:voiceops_handoffs:ratio_rate30m")
    return {r["metric"]["arm"]: float(r["value"][1]) for r in result}


def healthy_traffic_seen(stack: Stack, traffic: Traffic) -> None:
    """Wait until Prometheus has scraped :data:`HEALTHY_TURNS` answered turns and the rule
    groups have evaluated over them."""
    prometheus = stack.prometheus
    wait_for(
        f"{HEALTHY_TURNS} healthy turns scraped",
        lambda: scraped_turns(prometheus) >= HEALTHY_TURNS,
        prometheus,
        traffic,
    )
    recorded = f'model_name:tensorflow_serving_requests:rate5m{{model_name="{BOT}"}} > 0'
    wait_for("the serving rules evaluated", lambda: prometheus.query(recorded), prometheus, traffic)
    assert traffic.failed_turns == traffic.transport_errors == 0


def test_the_pushed_panels_read_only_pushed_metrics():
    pushed = {m.name for m in metrics() if m.source == "pipeline"}
    panels = {title: expr for _, title, expr in dashboard_queries(SCRAPED_DASHBOARDS)}
    for title in PUSHED_PANELS:
        assert title in panels, f"no panel {title!r} any more"
        assert metric_names(panels[title]) <= pushed, title


def test_the_dashboards_show_the_traffic_and_no_serving_alert_fires(start_stack):
    stack = start_stack()
    prometheus = stack.prometheus
    with Traffic(stack.url, stack.sources_root) as traffic:
        healthy_traffic_seen(stack, traffic)
    # the target is up and every rule of every file evaluates without error
    (target,) = wait_for(
        "the API target up",
        lambda: [t for t in prometheus.targets() if t["health"] == "up" and not t["lastError"]],
        prometheus,
        traffic,
    )
    assert target["labels"]["job"] == "voiceops_serving"
    groups = {group["name"]: group for group in prometheus.rule_groups()}
    assert set(groups) == {
        g["name"] for path in RULES for g in yaml.safe_load(path.read_text())["groups"]
    }
    for group in groups.values():
        assert group["interval"] == 1
        for rule in group["rules"]:
            assert rule["health"] == "ok", (rule["name"], rule.get("lastError"))

    # every panel of the serving and models dashboards has data: a number in some series
    # (a model no turn used has NaN ratios and quantiles: text turns skip the STT); the
    # per-arm recording rules need two evaluations after the first scrape of a new arm
    # series, which a loaded machine can take seconds to reach
    def empty_panels() -> list[tuple[str, str, str]]:
        return [
            (uid, title, expr)
            for uid, title, expr in dashboard_queries(SCRAPED_DASHBOARDS)
            if title not in PUSHED_PANELS
            and not any(math.isfinite(float(r["value"][1])) for r in prometheus.query(expr))
        ]

    deadline = time.monotonic() + WAIT_S
    while (empty := empty_panels()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not empty, empty
    assert_quiet(prometheus, SERVING_ALERTS)


def test_a_model_that_raises_makes_the_error_rate_alert_pending(start_stack):
    stack = start_stack()
    prometheus = stack.prometheus
    alert = "TensorFlowModelRequestHighErrorRate"
    with Traffic(stack.url, stack.sources_root) as traffic:
        healthy_traffic_seen(stack, traffic)
        assert_quiet(prometheus, (alert,))
        stack.faults["nlu"].error = RuntimeError("planted: the NLU model fails")
        states = wait_for(
            f"{alert} for the NLU and the whole turn",
            lambda: (
                (found := pending(prometheus, alert, "model_name"))
                and {"voicebot-nlu", BOT} <= set(found)
                and found
            ),
            prometheus,
            traffic,
        )
        assert traffic.failed_turns > 0
    rule = prometheus.alerting_rule(alert)
    assert rule["duration"] == 300 and set(states.values()) == {"pending"}, (rule, states)
    series = prometheus.query(f'ALERTS{{alertname="{alert}", alertstate="pending"}}')
    assert {s["metric"]["model_name"] for s in series} >= {"voicebot-nlu", BOT}
    assert all(s["metric"]["severity"] == "critical" for s in series)
    ratios = prometheus.query(rule["query"])
    assert {r["metric"]["model_name"] for r in ratios} >= {"voicebot-nlu", BOT}


def test_a_slow_model_makes_the_latency_alerts_pending(start_stack):
    # a TTS that cannot batch (max batch 1, VOICEOPS_SERVING_TTS_MAX_BATCH_SIZE), so that
    # when it slows down, the turns queue behind each other in its batcher
    stack = start_stack(ServingOptions(tts_max_batch_size=1))
    prometheus = stack.prometheus
    alerts = ("VoiceOpsTurnLatencyP99OverSLO", "TensorFlowModelRequestQueuingLatency")
    with Traffic(stack.url, stack.sources_root) as traffic:
        healthy_traffic_seen(stack, traffic)
        assert_quiet(prometheus, alerts)
        stack.faults["tts"].delay_s = 0.4
        slow_arms = wait_for(
            "p99 turn latency over the SLO in both arms",
            lambda: (
                (found := pending(prometheus, alerts[0], "arm"))
                and set(found) >= {"control", "candidate"}
                and found
            ),
            prometheus,
            traffic,
        )
        queueing = wait_for(
            "the mean batch queueing over 100 ms",
            lambda: pending(prometheus, alerts[1], "thread_pool_name"),
            prometheus,
            traffic,
        )
    assert set(slow_arms.values()) == set(queueing.values()) == {"pending"}
    assert prometheus.alerting_rule(alerts[0])["duration"] == 600
    assert prometheus.alerting_rule(alerts[1])["duration"] == 300
    for alert in alerts:
        assert prometheus.query(f'ALERTS{{alertname="{alert}", alertstate="pending"}}'), alert


def test_an_nlu_that_hands_every_caller_off_makes_the_handoff_alert_pending(start_stack):
    # every text is read as "talk_to_operator", confidently: the dialogue hands each turn to
    # an operator (through the bank's queue), in both arms (the candidate falls back to it)
    stack = start_stack()
    prometheus = stack.prometheus
    alert = "VoiceOpsHandoffRateHigh"
    # the healthy phase needs an NLU that is sure of its answers: the tiny one reads every
    # text at confidence ~0.1, which the dialogue meets with a clarification and, at the
    # session's second miss, a hand-off (half the turns); the alert then stayed quiet only
    # while fewer than 50 turns had been scraped, so a loaded machine saw it pending early
    stack.faults["nlu"].outputs = {"confidence": 0.99}
    with Traffic(stack.url, stack.sources_root) as traffic:
        healthy_traffic_seen(stack, traffic)
        assert_quiet(prometheus, (alert,))
        healthy = wait_for(
            "the hand-off ratio of both arms recorded",
            lambda: (
                (found := handoff_ratios(prometheus))
                and set(found) == {"control", "candidate"}
                and found
            ),
            prometheus,
            traffic,
        )
        assert max(healthy.values()) <= 0.2, healthy
        stack.faults["nlu"].outputs = {"intent": HANDOFF_INTENT, "confidence": 0.99}
        states = wait_for(
            f"{alert} in both arms",
            lambda: (
                (found := pending(prometheus, alert, "arm"))
                and set(found) >= {"control", "candidate"}
                and found
            ),
            prometheus,
            traffic,
        )
        assert traffic.failed_turns == traffic.transport_errors == 0
    rule = prometheus.alerting_rule(alert)
    assert rule["duration"] == 900 and set(states.values()) == {"pending"}, (rule, states)
    ratios = {r["metric"]["arm"]: float(r["value"][1]) for r in prometheus.query(rule["query"])}
    assert set(ratios) >= {"control", "candidate"} and min(ratios.values()) > 0.2, ratios
    series = prometheus.query(f'ALERTS{{alertname="{alert}", alertstate="pending"}}')
    assert {s["metric"]["severity"] for s in series} == {"warning"}
