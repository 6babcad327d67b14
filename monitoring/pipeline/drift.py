"""Drift metrics from the latest drift report (``<home>/monitoring/drift.json``, written by
the ``monitoring/drift`` asset): ``voiceops_drift_score{family,feature,language,method}``."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from core.settings import Settings
from monitoring.drift_report import latest_report


def drift_metrics(settings: Settings) -> Iterator[Metric]:
    """One gauge per score of the latest report (none before the first)."""
    scores = GaugeMetricFamily(
        "voiceops_drift_score",
        "Production inputs against the champion's training data (method psi, ks or novelty).",
        labels=["family", "feature", "language", "method"],
    )
    report = latest_report(settings)
    for score in report.scores if report is not None else []:
        scores.add_metric([score.family, score.feature, score.language, score.method], score.score)
    yield scores
