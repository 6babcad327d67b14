"""``voiceops monitor status``: per family the champion, its data commit and age, the latest
drift scores and the live serving figures, and the alerts open in Prometheus."""

from __future__ import annotations

import time
from typing import Any

from core.settings import Settings
from monitoring.drift_report import latest_report
from monitoring.live import PrometheusError, live_metrics, open_alerts
from training.families import FAMILIES

#: The whole turn's ``model_name`` in the serving metrics.
BOT_MODEL_NAME = "voiceops-bot"


def champion_rows(settings: Settings) -> dict[str, dict[str, Any]]:
    """Per family: champion version, lake commit, when that commit was made and its age."""
    from monitoring.pipeline.models import data_commit_time, registry_exists
    from registry.tracking import client
    from registry.versions import CHAMPION, by_alias

    rows: dict[str, dict[str, Any]] = {name: {"champion": None} for name in FAMILIES}
    if not registry_exists(settings):
        return rows
    mlflow = client(settings)
    now = time.time()
    for name, family in FAMILIES.items():
        version = by_alias(mlflow, family.model_name, CHAMPION)
        if version is None:
            continue
        made = data_commit_time(settings, version)
        rows[name] = {
            "champion": str(version.version),
            "lake_commit": version.tags.get("lineage.lake_commit", ""),
            "data_commit_at": made,
            "data_age_s": None if made is None else round(now - made, 1),
        }
    return rows


def status(settings: Settings) -> dict[str, Any]:
    """Everything ``monitor status`` prints, as one JSON-able dict."""
    families = champion_rows(settings)
    report = latest_report(settings)
    for name, row in families.items():
        row["drift"] = [s.to_dict() for s in report.family_scores(name)] if report else []
        if name == "nlu":
            row["embedding_drift"] = report.embedding if report else {}
        row["live"] = {}
    result: dict[str, Any] = {
        "families": families,
        "drift_computed_at": report.computed_at if report else None,
        "prometheus": {"url": settings.prometheus_url or None, "error": None},
        "bot": {},
        "alerts": [],
    }
    if not settings.prometheus_url:
        result["prometheus"]["error"] = "not configured (VOICEOPS_PROMETHEUS_URL)"
        return result
    try:
        live = live_metrics(settings.prometheus_url)
        result["alerts"] = open_alerts(settings.prometheus_url)
    except PrometheusError as error:
        result["prometheus"]["error"] = str(error)
        return result
    for name, family in FAMILIES.items():
        families[name]["live"] = live.get(family.model_name, {})
    result["bot"] = live.get(BOT_MODEL_NAME, {})
    return result


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _live(values: dict[str, float]) -> str:
    if not values:
        return "no traffic in 5 min"
    parts = []
    if "error_ratio" in values:
        parts.append(f"errors {values['error_ratio']:.1%}")
    if "p99_latency_s" in values:
        parts.append(f"p99 {values['p99_latency_s'] * 1000:.0f} ms")
    return ", ".join(parts)


def status_lines(result: dict[str, Any]) -> list[str]:
    """The status as text, one block per family, then Prometheus' view."""
    prometheus = result["prometheus"]
    lines = []
    for name, row in result["families"].items():
        if row["champion"] is None:
            lines.append(f"{name}: no champion")
        else:
            commit = (row["lake_commit"] or "unknown")[:12]
            lines.append(
                f"{name}: champion v{row['champion']}, data commit {commit} "
                f"({_age(row['data_age_s'])} old)"
            )
        for score in row["drift"]:
            mark = "  DRIFT" if score["drifted"] else ""
            lines.append(
                f"  drift {score['feature']}[{score['language']}] {score['method']} "
                f"{score['score']:.3f} (threshold {score['threshold']}){mark}"
            )
        lines += _embedding_lines(row.get("embedding_drift") or {})
        if prometheus["error"] is None:
            lines.append(f"  live: {_live(row['live'])}")
    if result["drift_computed_at"] is None:
        lines.append("drift: no report yet (materialize monitoring/drift)")
    else:
        age = _age(time.time() - result["drift_computed_at"])
        lines.append(f"drift: report of {age} ago")
    if prometheus["error"] is not None:
        lines.append(f"prometheus: {prometheus['error']}; no live metrics or alerts")
        return lines
    lines.append(f"prometheus: {prometheus['url']}; whole turn: {_live(result['bot'])}")
    if not result["alerts"]:
        lines.append("alerts: none open")
    for alert in result["alerts"]:
        lines.append(
            f"alert {alert['alert']} ({alert['severity'] or 'no severity'}, {alert['state']}): "
            f"{alert['summary']}"
        )
    return lines


def _embedding_lines(embedding: dict[str, Any]) -> list[str]:
    """The NLU's embedding drift beyond its scores: why none, or the novel utterances."""
    if embedding.get("note"):
        return [f"  embeddings: {embedding['note']}"]
    return [
        f"  novel [{language}]: " + " | ".join(examples)
        for language, examples in embedding.get("novel_examples", {}).items()
        if examples
    ]
