"""Writes the Grafana dashboards (``monitoring/grafana/dashboards/*.json``, provisioning JSON)
from the panel lists in ``panels.py``:

    python -m monitoring.grafana.build_dashboards

The JSON files are committed so Grafana reads them as they are; ``tests/monitoring`` checks
that they match this source, and that every query parses and names known metrics only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from monitoring.grafana.panels import DASHBOARDS, Dashboard, Panel, Variable

OUT = Path(__file__).resolve().parent / "dashboards"
#: the datasource provisioned by provisioning/datasources/prometheus.yml
DATASOURCE = {"type": "prometheus", "uid": "voiceops-prometheus"}
SCHEMA_VERSION = 39  # Grafana 10.4 / 11
PANEL_HEIGHT, GRID_WIDTH = 8, 24


def threshold_steps(threshold: float | None) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    if threshold is not None:
        steps.append({"color": "red", "value": threshold})
    return {"mode": "absolute", "steps": steps}


def panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    instant = panel.kind in ("stat", "table")
    targets = [
        {
            "refId": chr(ord("A") + index),
            "datasource": DATASOURCE,
            "expr": expr,
            "legendFormat": legend,
            "range": not instant,
            "instant": instant,
            **({"format": "table"} if panel.kind == "table" else {}),
        }
        for index, (expr, legend) in enumerate(panel.queries)
    ]
    defaults: dict[str, Any] = {"unit": panel.unit, "thresholds": threshold_steps(panel.threshold)}
    if panel.kind == "timeseries":
        line = "line" if panel.threshold is not None else "off"
        defaults["custom"] = {"thresholdsStyle": {"mode": line}}
    legend = {"displayMode": "list", "placement": "bottom", "showLegend": True}
    options: dict[str, Any] = {
        "timeseries": {"legend": legend},
        "stat": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
        "table": {"showHeader": True},
    }[panel.kind]
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": PANEL_HEIGHT, "w": panel.width, "x": x, "y": y},
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options,
        **({"transformations": [{"id": "labelsToFields"}]} if panel.kind == "table" else {}),
    }


def variable_json(variable: Variable) -> dict[str, Any]:
    query = f"label_values({variable.metric}, {variable.label})"
    return {
        "name": variable.label,
        "label": variable.label,
        "type": "query",
        "datasource": DATASOURCE,
        "definition": query,
        "query": {"qryType": 1, "query": query, "refId": "PrometheusVariableQueryEditor"},
        "refresh": 2,
        "includeAll": True,
        "allValue": ".*",
        "multi": True,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
    }


def dashboard_json(dashboard: Dashboard) -> dict[str, Any]:
    panels, x, y = [], 0, 0
    for panel_id, panel in enumerate(dashboard.panels, start=1):
        if x + panel.width > GRID_WIDTH:
            x, y = 0, y + PANEL_HEIGHT
        panels.append(panel_json(panel, panel_id, x, y))
        x += panel.width
    return {
        "uid": dashboard.uid,
        "title": dashboard.title,
        "description": dashboard.description,
        "tags": ["voiceops"],
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": False,
        "graphTooltip": 1,
        "timezone": "utc",
        "time": {"from": dashboard.time_from, "to": "now"},
        "refresh": "1m",
        "templating": {"list": [variable_json(variable) for variable in dashboard.variables]},
        "annotations": {"list": []},
        "links": [],
        "panels": panels,
    }


def rendered() -> dict[str, str]:
    """``{file name: JSON text}`` of every dashboard."""
    return {
        f"{dashboard.uid}.json": json.dumps(dashboard_json(dashboard), indent=2) + "\n"
        for dashboard in DASHBOARDS
    }


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, text in rendered().items():
        (OUT / name).write_text(text, encoding="utf-8")
        print(OUT / name)


if __name__ == "__main__":
    main()
