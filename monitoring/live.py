"""Live figures from a Prometheus server's HTTP API: per model, the error ratio and p99
latency of the last 5 minutes, and the alerts firing or pending (``/api/v1/alerts``).

The queries are the serving recording rules' expressions written out, so they answer from a
Prometheus that scrapes the API whether or not it loaded ``monitoring/prometheus/rules``.
"""

from __future__ import annotations

import json
import math
import urllib.parse
import urllib.request
from typing import Any

from core.errors import VoiceOpsError

#: Share of invocations not OK per model (0 while nothing failed), last 5 minutes.
ERROR_RATIO = (
    '(sum by (model_name) (rate(:tensorflow:serving:request_count{status!="OK"}[5m])) '
    "or 0 * sum by (model_name) (rate(:tensorflow:serving:request_count[5m]))) "
    "/ sum by (model_name) (rate(:tensorflow:serving:request_count[5m]))"
)
#: p99 request latency per model in seconds (TF Serving's histograms are microseconds).
P99_SECONDS = (
    "histogram_quantile(0.99, sum by (model_name, le) "
    "(rate(:tensorflow:serving:request_latency_bucket[5m]))) / 1e6"
)


class PrometheusError(VoiceOpsError):
    """The Prometheus server did not answer, or answered with an error."""


def _get(url: str, path: str, params: dict[str, str] | None, timeout: float) -> Any:
    address = url.rstrip("/") + path
    if params:
        address += "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(address, timeout=timeout) as response:
            body = json.load(response)
    except (OSError, ValueError) as error:
        raise PrometheusError(f"Prometheus at {url}: {error}") from error
    if body.get("status") != "success":
        raise PrometheusError(f"Prometheus at {url}: {body.get('error', body)}")
    return body["data"]


def by_model(url: str, expr: str, timeout: float = 5) -> dict[str, float]:
    """An instant query's value per ``model_name`` (NaN results left out)."""
    data = _get(url, "/api/v1/query", {"query": expr}, timeout)
    values = {}
    for series in data.get("result", []):
        value = float(series["value"][1])
        if not math.isnan(value):
            values[series["metric"].get("model_name", "")] = value
    return values


def live_metrics(url: str, timeout: float = 5) -> dict[str, dict[str, float]]:
    """``{model_name: {"error_ratio": .., "p99_latency_s": ..}}`` for the models with traffic."""
    found: dict[str, dict[str, float]] = {}
    for name, expr in (("error_ratio", ERROR_RATIO), ("p99_latency_s", P99_SECONDS)):
        for model, value in by_model(url, expr, timeout).items():
            found.setdefault(model, {})[name] = value
    return found


def open_alerts(url: str, timeout: float = 5) -> list[dict[str, Any]]:
    """The alerts firing or pending: name, state, severity, labels, summary."""
    alerts = _get(url, "/api/v1/alerts", None, timeout).get("alerts", [])
    return [
        {
            "alert": alert["labels"].get("alertname", ""),
            "state": alert.get("state", ""),
            "severity": alert["labels"].get("severity", ""),
            "labels": alert["labels"],
            "summary": alert.get("annotations", {}).get("summary", ""),
            "active_at": alert.get("activeAt", ""),
        }
        for alert in alerts
    ]
