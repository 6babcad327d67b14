"""A real Prometheus for the end-to-end test: Debian's binary on a loopback port, a generated
config scraping one target every second, the project's rule files, and its HTTP API.

The rule files are loaded as they are, except one test transformation (:func:`fast_rules`):
each group is evaluated every second instead of every 30 s or 1 min. Expressions,
thresholds, rate windows and ``for`` durations stay those of production.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import yaml

from core.net import free_port
from tests.monitoring.names import RULES, tool
from tests.processes import wait_until_ready

#: how often the test Prometheus scrapes and evaluates every rule group
INTERVAL = "1s"


def fast_rules(directory: Path) -> list[Path]:
    """Copies of the rule files in ``directory`` with every group's ``interval`` set to
    :data:`INTERVAL`, and nothing else changed."""
    directory.mkdir(parents=True, exist_ok=True)
    copies = []
    for path in RULES:
        rules = yaml.safe_load(path.read_text(encoding="utf-8"))
        for group in rules["groups"]:
            group["interval"] = INTERVAL
        copy = directory / path.name
        copy.write_text(yaml.safe_dump(rules, sort_keys=False), encoding="utf-8")
        copies.append(copy)
    return copies


def config(
    target: str | None, rule_files: Sequence[Path], pushgateway: str | None = None
) -> dict[str, Any]:
    """A prometheus.yml scraping ``target`` (host:port; None: nothing) as job
    ``voiceops_serving`` and, if given, the ``pushgateway`` (host:port) as production's
    ``prometheus.yml`` does: pushed series keep their own job and instance (honor_labels)."""
    targets = [{"targets": [target]}] if target else []
    jobs: list[dict[str, Any]] = [{"job_name": "voiceops_serving", "static_configs": targets}]
    if pushgateway:
        jobs.append(
            {
                "job_name": "pushgateway",
                "honor_labels": True,
                "static_configs": [{"targets": [pushgateway]}],
            }
        )
    return {
        "global": {
            "scrape_interval": INTERVAL,
            "scrape_timeout": INTERVAL,
            "evaluation_interval": INTERVAL,
        },
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": jobs,
    }


class Prometheus:
    """``prometheus`` scraping ``target`` (and a ``pushgateway``) from a fresh TSDB under
    ``workdir``, with the project's rules (``rules``) or none; a context manager (stopped at
    exit) with the queries the test asks."""

    def __init__(
        self,
        target: str | None,
        workdir: Path,
        *,
        rules: bool = True,
        pushgateway: str | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config_path = self.workdir / "prometheus.yml"
        rule_files = fast_rules(self.workdir / "rules") if rules else []
        settings = config(target, rule_files, pushgateway)
        config_path.write_text(yaml.safe_dump(settings), encoding="utf-8")
        self.log_path = self.workdir / "prometheus.log"
        self.command = [
            tool("prometheus"),
            f"--config.file={config_path}",
            f"--storage.tsdb.path={self.workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]
        self.process: subprocess.Popen | None = None
        self.client = httpx.Client(base_url=self.url, timeout=10)

    def __enter__(self) -> Prometheus:
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=log)
        try:
            self._wait_ready(30)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        try:
            wait_until_ready(self.process, f"{self.url}/-/ready", timeout_s=timeout_s)
        except RuntimeError as error:
            raise RuntimeError(f"prometheus did not start ({error}):\n{self.log()}") from None

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    # ---- the HTTP API --------------------------------------------------------------------
    def _get(self, path: str, **params: str) -> Any:
        response = self.client.get(path, params=params)
        body = response.json()
        assert response.status_code == 200 and body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector of ``expr`` now: ``[{"metric": {...}, "value": [t, "v"]}]``."""
        data = self._get("/api/v1/query", query=expr)
        assert data["resultType"] == "vector", data
        return data["result"]

    def targets(self) -> list[dict[str, Any]]:
        return self._get("/api/v1/targets")["activeTargets"]

    def rule_groups(self) -> list[dict[str, Any]]:
        return self._get("/api/v1/rules")["groups"]

    def alerts(self) -> list[dict[str, Any]]:
        """Active alerts (state ``pending`` or ``firing``)."""
        return self._get("/api/v1/alerts")["alerts"]

    def alerting_rule(self, name: str) -> dict[str, Any]:
        """The loaded alerting rule ``name`` (its ``query``, ``duration``, ``state``...)."""
        for group in self.rule_groups():
            for rule in group["rules"]:
                if rule["type"] == "alerting" and rule["name"] == name:
                    return rule
        raise AssertionError(f"no alerting rule {name} loaded")
