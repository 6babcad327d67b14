"""Audit metrics from the audit log: how many audited commits passed or failed, and the last
audit's result.

The log keeps one strict audit per commit (a commit audited again replaces its entry), so a
count is of audited commits; relaxed runs (overridden dbt variables) never publish and are
left out.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from core.settings import Settings
from warehouse.audits import Audit, audit_log

RESULTS = ("passed", "failed")


def result(audit: Audit) -> str:
    return "passed" if audit.ok else "failed"


def audit_metrics(settings: Settings) -> Iterator[Metric]:
    """``voiceops_audit_runs_total{result}`` and ``voiceops_audit_last_result{result}``."""
    audits = audit_log(settings).audits()
    runs = CounterMetricFamily(
        "voiceops_audit_runs",
        "Audited lake commits by the outcome of their (latest strict) audit.",
        labels=["result"],
    )
    for outcome in RESULTS:
        runs.add_metric([outcome], sum(1 for audit in audits if result(audit) == outcome))
    last = GaugeMetricFamily(
        "voiceops_audit_last_result",
        "1 for the result of the newest audit, 0 for the other (absent before any audit).",
        labels=["result"],
    )
    if audits:
        for outcome in RESULTS:
            last.add_metric([outcome], float(result(audits[-1]) == outcome))
    yield from (runs, last)
