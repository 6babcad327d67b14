"""``voiceops monitor status`` against a real Prometheus (Debian's binary, an empty config:
no target, no rule, so no alert), an unreachable one, and none configured."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.net import free_port
from core.settings import get_settings
from tests.monitoring.prometheus_server import Prometheus
from voiceops.cli import app


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path / "home"))
    for name in ("MLFLOW_TRACKING_URI", "VOICEOPS_PROMETHEUS_URL", "VOICEOPS_EVENTS_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


@pytest.fixture
def empty_prometheus(tmp_path: Path) -> Iterator[str]:
    with Prometheus(None, tmp_path / "prometheus", rules=False) as prometheus:
        yield prometheus.url


def status(*args: str) -> str:
    result = CliRunner().invoke(app, ["monitor", "status", *args])
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def test_status_without_prometheus_says_so_and_prints_the_rest(home: Path) -> None:
    text = status()
    assert "nlu: no champion" in text and "tts: no champion" in text
    assert "drift: no report yet" in text
    assert "prometheus: not configured (VOICEOPS_PROMETHEUS_URL)" in text
    report = json.loads(status("--json"))
    assert report["families"]["stt"] == {"champion": None, "drift": [], "live": {}}
    assert report["alerts"] == []


def test_status_with_an_unreachable_prometheus_reports_it(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICEOPS_PROMETHEUS_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    report = json.loads(status("--json"))
    assert "Prometheus at http://127.0.0.1:" in report["prometheus"]["error"]
    assert "nlu: no champion" in status()


def test_status_with_a_real_prometheus_and_no_alerts(
    home: Path, empty_prometheus: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICEOPS_PROMETHEUS_URL", empty_prometheus)
    get_settings.cache_clear()
    report = json.loads(status("--json"))
    assert report["prometheus"] == {"url": empty_prometheus, "error": None}
    assert report["alerts"] == [] and report["bot"] == {}
    text = status()
    assert "nlu: no champion" in text and "live: no traffic in 5 min" in text
    assert "alerts: none open" in text
