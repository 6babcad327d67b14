"""A real Prometheus scrapes a real Pushgateway the pipeline's own code pushed to: the Data
pipeline and Training dashboards' queries return data, and the pipeline alerts fire.

The records are the registry tests' world (a lake with a published and a refused ingestion,
their audits), a tiny NLU registered as champion, an epoch of training metrics, a drift
report with one drifted feature, and a second lake repository whose only publish landed
30 hours ago (the local lake's clock set back while it merged). They are pushed by
``push_pipeline_metrics`` (what the Dagster sensors call), again by ``voiceops monitor
metrics --push`` after a retraining failure, and by the training callback
(``PrometheusEpochMetrics``). Debian's ``prometheus-pushgateway`` and ``prometheus`` run on
loopback ports; Prometheus scrapes the gateway every second with ``honor_labels`` (as
``monitoring/prometheus/prometheus.yml`` does) and evaluates the project's rules every second
(:mod:`tests.monitoring.prometheus_server`). The three alerts checked have no ``for``: they
fire, not only pend.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from core.settings import get_settings
from monitoring.drift import DriftScore
from monitoring.drift_report import DriftReport, save_report
from monitoring.failure_log import FailureLog, RunFailure
from monitoring.pipeline import PUSH_JOB, push_pipeline_metrics
from tests.monitoring.names import dashboard_queries, tool
from tests.monitoring.prometheus_server import Prometheus
from tests.registry.conftest import REPO, World, build_world, permissive_policy
from versioning.lake.local import backend
from warehouse.guard import KIND, PUBLISH

pytestmark = pytest.mark.slow

PUSHED_DASHBOARDS = ("voiceops-pipeline.json", "voiceops-training.json")
#: a repository nothing was published to for longer than the stale-data alert's 26 h
ARCHIVE = "call-archive"
ARCHIVE_AGE_H = 30
WAIT_S = 60


class _ClockBack:
    """The ``time`` module as the local lake sees it, ``seconds`` in the past."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def time(self) -> float:
        return time.time() - self.seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def publish_long_ago(world: World, hours: float, monkeypatch: pytest.MonkeyPatch) -> float:
    """Repository :data:`ARCHIVE` with one publish merge (``kind=publish``, as
    ``warehouse.publish`` records it) made ``hours`` ago; its time."""
    lake = world.lake
    with monkeypatch.context() as clock:
        clock.setattr(backend, "time", _ClockBack(hours * 3600))
        lake.create_repository(ARCHIVE)
        lake.create_branch(ARCHIVE, "ingest-20250101-run1", "main")
        lake.upload(ARCHIVE, "ingest-20250101-run1", "raw/calls/part-0.parquet", b"calls")
        lake.commit(ARCHIVE, "ingest-20250101-run1", "ingest")
        lake.merge(
            ARCHIVE,
            "ingest-20250101-run1",
            "main",
            metadata={KIND: PUBLISH},
            allow_fast_forward=False,
        )
    published = lake.get_commit(ARCHIVE, lake.resolve_ref(ARCHIVE, "main"))
    assert published.metadata[KIND] == PUBLISH
    return published.creation_date


@pytest.fixture(scope="session")
def prometheus_binary() -> str:
    """Skips (or fails, in CI) before anything is built when there is no prometheus."""
    return tool("prometheus")


@pytest.fixture
def world(prometheus_binary, pushgateway, tmp_path: Path) -> World:
    return build_world(tmp_path / "home")


@pytest.fixture
def prometheus(pushgateway: str, tmp_path: Path) -> Iterator[Prometheus]:
    for job in (PUSH_JOB, "voiceops_training"):  # the gateway is the session's
        httpx.delete(f"{pushgateway}/metrics/job/{job}", timeout=10)
    gateway = pushgateway.removeprefix("http://")
    with Prometheus(None, tmp_path / "prometheus", pushgateway=gateway) as server:
        yield server


def wait_for(what: str, check: Callable[[], Any], prometheus: Prometheus) -> Any:
    deadline = time.monotonic() + WAIT_S
    while not (found := check()):
        assert time.monotonic() < deadline, f"{what}: not within {WAIT_S} s\n{prometheus.log()}"
        time.sleep(0.5)
    return found


def active(prometheus: Prometheus, alert: str, label: str) -> dict[str, str]:
    """``{label value: state}`` of the active alerts named ``alert``."""
    return {
        a["labels"].get(label, ""): a["state"]
        for a in prometheus.alerts()
        if a["labels"]["alertname"] == alert
    }


def record_a_champion_and_its_training(world: World, nlu_good, pushgateway: str) -> None:
    """The NLU champion in the registry, one epoch's metrics pushed by the training callback,
    a drift report with the NLU's intents drifted in Russian."""
    from registry.register import register
    from training.common.callbacks import PrometheusEpochMetrics

    info = dataclasses.replace(nlu_good.info(world.published), train_seconds=12.5)
    registered = register(
        "nlu",
        info,
        settings=world.settings,
        lake=world.lake,
        rows=nlu_good.rows,
        policy=permissive_policy(),
    )
    assert registered.verdict.passed
    PrometheusEpochMetrics("nlu", pushgateway).on_epoch_end(0, {"loss": 1.25, "accuracy": 0.5})
    scores = [
        DriftScore("nlu", "intent", "ru", "psi", 0.41, 100, 100),
        DriftScore("nlu", "intent", "en", "psi", 0.01, 100, 100),
    ]
    report = DriftReport(time.time(), "2026-01-01T00:00:00+00:00", 200, {}, scores)
    save_report(world.settings, report)


def test_pushed_pipeline_metrics_fill_the_dashboards_and_fire_the_pipeline_alerts(
    world: World,
    nlu_good,
    pushgateway: str,
    prometheus: Prometheus,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from voiceops.cli import app

    archive_published = publish_long_ago(world, ARCHIVE_AGE_H, monkeypatch)
    record_a_champion_and_its_training(world, nlu_good, pushgateway)
    assert push_pipeline_metrics(world.settings, pushgateway)

    # the gateway's series reach Prometheus with their own job (honor_labels)
    pushed = 'voiceops_lake_last_publish_timestamp_seconds{job="voiceops_pipeline"}'
    series = wait_for(
        "the pushed publish times scraped", lambda: prometheus.query(pushed), prometheus
    )
    times = {s["metric"]["repository"]: float(s["value"][1]) for s in series}
    assert times[ARCHIVE] == pytest.approx(archive_published)
    assert time.time() - times[REPO] < 3600
    (target,) = [t for t in prometheus.targets() if t["labels"]["job"] == "pushgateway"]
    assert target["health"] == "up", target

    # nothing published to the archive for 30 h: stale; the contact center is fresh, and
    # the "never pushed" rule (pending from Prometheus' start until the first scrape) is gone
    wait_for(
        "VoiceOpsStaleData firing for the archive alone",
        lambda: active(prometheus, "VoiceOpsStaleData", "repository") == {ARCHIVE: "firing"},
        prometheus,
    )
    wait_for(
        "VoiceOpsDataDrift firing for the NLU's Russian intents alone",
        lambda: active(prometheus, "VoiceOpsDataDrift", "language") == {"ru": "firing"},
        prometheus,
    )

    # a retraining run fails; the CLI pushes again: the failure counter's increase fires
    FailureLog(world.settings).record(RunFailure("retrain_job", "run-9", "train_nlu", "oom"))
    monkeypatch.setenv("VOICEOPS_HOME", str(world.settings.home))
    monkeypatch.setenv("VOICEOPS_LAKE_REPOSITORY", REPO)
    monkeypatch.setenv("VOICEOPS_PUSHGATEWAY_URL", pushgateway)
    for name in ("MLFLOW_TRACKING_URI", "VOICEOPS_MLFLOW_TRACKING_URI", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    pushed_again = CliRunner().invoke(app, ["monitor", "metrics", "--push"])
    assert pushed_again.exit_code == 0, pushed_again.output
    wait_for(
        "VoiceOpsRetrainingFailed firing for retrain_job",
        lambda: (
            active(prometheus, "VoiceOpsRetrainingFailed", "dagster_job")
            == {"retrain_job": "firing"}
        ),
        prometheus,
    )

    # every panel of the Data pipeline and Training dashboards has data
    def empty_panels() -> list[tuple[str, str, str]]:
        return [
            (uid, title, expr)
            for uid, title, expr in dashboard_queries(PUSHED_DASHBOARDS)
            if not any(math.isfinite(float(r["value"][1])) for r in prometheus.query(expr))
        ]

    deadline = time.monotonic() + WAIT_S  # increase() needs two scrapes of a new series
    while (empty := empty_panels()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not empty, empty
    for group in prometheus.rule_groups():
        for rule in group["rules"]:
            assert rule["health"] == "ok", (rule["name"], rule.get("lastError"))
