"""What tests/monitoring reads: the known names (``monitoring/metrics.yml``), the rule files,
and the metric names and label matchers a PromQL expression uses."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "monitoring"
RULES = sorted((MONITORING / "prometheus" / "rules").glob("*.yml"))
RULE_TESTS = sorted((MONITORING / "prometheus" / "tests").glob("*.yml"))
DASHBOARDS = MONITORING / "grafana" / "dashboards"
#: labels every scraped or pushed series may carry besides its own
TARGET_LABELS = {"job", "instance"}
#: Grafana's interval variables, as Prometheus durations for parsing
GRAFANA_INTERVALS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"' + r"|'(?:[^'\\]|\\.)*'")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_NAME = re.compile(r"(?<![\w:.$])([a-zA-Z_:][\w:]*)(\s*\()?")
_SELECTOR = re.compile(r"(?<![\w:.$])([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}")
_MATCHER = re.compile(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan", "Inf", "NaN"}


@dataclass(frozen=True)
class Metric:
    name: str
    type: str
    labels: frozenset[str]
    source: str

    def series(self) -> dict[str, frozenset[str]]:
        """The series names it is queried by, with the labels each carries."""
        if self.type == "histogram":
            return {
                f"{self.name}_bucket": self.labels | {"le"},
                f"{self.name}_sum": self.labels,
                f"{self.name}_count": self.labels,
            }
        return {self.name: self.labels}


@cache
def contract() -> dict:
    return yaml.safe_load((MONITORING / "metrics.yml").read_text(encoding="utf-8"))


def metrics() -> list[Metric]:
    return [
        Metric(m["name"], m["type"], frozenset(m["labels"]), m["source"])
        for m in contract()["metrics"]
    ]


def known_series() -> dict[str, frozenset[str]]:
    """Every queryable series name of metrics.yml with its labels."""
    return {name: labels for m in metrics() for name, labels in m.series().items()}


def rules() -> list[dict]:
    """Every rule of every rule file, each with its ``file``."""
    found = []
    for path in RULES:
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            found += [{**rule, "file": path.name} for rule in group["rules"]]
    return found


def recording_names() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


def _code(expr: str) -> str:
    """``expr`` without string literals and comments (quotes kept, contents dropped)."""
    lines = [line.split("#", 1)[0] for line in _STRING.sub('""', expr).splitlines()]
    return "\n".join(lines)


def metric_names(expr: str) -> set[str]:
    """The metric (or recorded series) names ``expr`` selects."""
    text = re.sub(r"\[[^\]]*\]", "", re.sub(r"\{[^}]*\}", "", _code(expr)))
    text = _GROUPING.sub("", text)
    return {
        name
        for name, call in _NAME.findall(text)
        if not call and name not in _KEYWORDS and not name.startswith("__")
    }


def matcher_labels(expr: str) -> dict[str, set[str]]:
    """``{metric name: label names its selectors match on}``."""
    found: dict[str, set[str]] = {}
    for name, matchers in _SELECTOR.findall(_code(expr)):
        found.setdefault(name, set()).update(_MATCHER.findall(matchers))
    return found


def grafana_to_promql(expr: str) -> str:
    """A dashboard query with Grafana's interval variables replaced by durations."""
    for variable, duration in GRAFANA_INTERVALS.items():
        expr = expr.replace(variable, duration)
    return expr


def dashboard_queries(names: Sequence[str]) -> list[tuple[str, str, str]]:
    """``(dashboard uid, panel title, PromQL)`` of every target of the dashboards ``names``
    (file names under ``grafana/dashboards``), with Grafana's variables at "All"."""
    found = []
    for name in names:
        dashboard = json.loads((DASHBOARDS / name).read_text(encoding="utf-8"))
        every = {f"${v['name']}": v["allValue"] for v in dashboard["templating"]["list"]}
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                expr = grafana_to_promql(target["expr"])
                for variable, value in every.items():
                    expr = expr.replace(variable, value)
                found.append((dashboard["uid"], panel["title"], expr))
    return found


def unknown_names(expr: str) -> set[str]:
    return metric_names(expr) - set(known_series()) - recording_names()


def unknown_labels(expr: str) -> dict[str, set[str]]:
    """Labels matched on that the metric does not carry (recorded series are not checked)."""
    series = known_series()
    return {
        name: extra
        for name, labels in matcher_labels(expr).items()
        if name in series and (extra := labels - series[name] - TARGET_LABELS)
    }


#: the Debian package of each tool (scripts/install_system_deps.sh installs them)
PACKAGES = {
    "promtool": "prometheus",
    "prometheus": "prometheus",
    "amtool": "prometheus-alertmanager",
}


def tool(name: str) -> str:
    """The path of a Prometheus tool; a skip when it is missing, a failure when it is
    missing and ``VOICEOPS_REQUIRE_PROMTOOL`` is set (CI)."""
    path = shutil.which(name)
    if path:
        return path
    reason = f"{name} is not installed (Debian package {PACKAGES[name]}, installed by make setup)"
    if os.environ.get("VOICEOPS_REQUIRE_PROMTOOL"):
        pytest.fail(f"{reason} and VOICEOPS_REQUIRE_PROMTOOL is set")
    pytest.skip(reason)
