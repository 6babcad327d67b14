"""The Grafana dashboards and provisioning files: they match their source (panels.py), every
panel queries the provisioned datasource with PromQL that promtool parses, and every name
they use is in monitoring/metrics.yml or a recording rule."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from monitoring.grafana.build_dashboards import rendered
from tests.monitoring.names import (
    MONITORING,
    ROOT,
    grafana_to_promql,
    tool,
    unknown_labels,
    unknown_names,
)

GRAFANA = MONITORING / "grafana"
DASHBOARD_FILES = sorted((GRAFANA / "dashboards").glob("*.json"))
DASHBOARD_TITLES = {
    "VoiceOps / Serving",
    "VoiceOps / Models & experiments",
    "VoiceOps / Data pipeline",
    "VoiceOps / Training",
}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def dashboards() -> list[dict]:
    return [json.loads(path.read_text(encoding="utf-8")) for path in DASHBOARD_FILES]


def queries() -> list[tuple[str, str]]:
    """``(where, PromQL)`` of every panel target and template variable."""
    found = []
    for dashboard in dashboards():
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                where = f"{dashboard['uid']} / {panel['title']} / {target['refId']}"
                found.append((where, target["expr"]))
        for variable in dashboard["templating"]["list"]:
            metric = re.fullmatch(r"label_values\((.+), *\w+\)", variable["definition"])
            assert metric, variable["definition"]
            found.append((f"{dashboard['uid']} / ${variable['name']}", metric.group(1)))
    return found


def provisioned_datasource() -> dict:
    (datasource,) = load(GRAFANA / "provisioning" / "datasources" / "prometheus.yml")["datasources"]
    return datasource


def test_the_dashboards_match_their_source():
    assert {path.name: path.read_text(encoding="utf-8") for path in DASHBOARD_FILES} == rendered()


def test_four_dashboards_with_uid_title_and_schema_version():
    found = dashboards()
    assert {dashboard["title"] for dashboard in found} == DASHBOARD_TITLES
    assert len({dashboard["uid"] for dashboard in found}) == len(found)
    for dashboard in found:
        assert dashboard["uid"] and isinstance(dashboard["schemaVersion"], int)


def test_every_panel_queries_the_provisioned_datasource():
    datasource = provisioned_datasource()
    for dashboard in dashboards():
        assert dashboard["panels"], dashboard["uid"]
        for panel in dashboard["panels"]:
            assert panel["datasource"]["uid"] == datasource["uid"], panel["title"]
            assert panel["datasource"]["type"] == datasource["type"]
            assert panel["targets"], panel["title"]
            for target in panel["targets"]:
                assert target["expr"].strip() and target["refId"]
                assert target["datasource"] == panel["datasource"]


def test_panels_fit_the_grid_without_overlapping():
    for dashboard in dashboards():
        cells: set[tuple[int, int]] = set()
        for panel in dashboard["panels"]:
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24
            area = {
                (x, y)
                for x in range(grid["x"], grid["x"] + grid["w"])
                for y in range(grid["y"], grid["y"] + grid["h"])
            }
            assert not area & cells, f"{dashboard['uid']}: {panel['title']} overlaps"
            cells |= area


def test_promtool_parses_every_query(tmp_path):
    """promtool has no PromQL-only check: the queries become recording rules it checks."""
    rules = [
        {"record": f"dashboard_query_{index}", "expr": grafana_to_promql(expr)}
        for index, (_, expr) in enumerate(queries())
    ]
    path = tmp_path / "dashboard_queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    done = subprocess.run(
        [tool("promtool"), "check", "rules", str(path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("where, expr", queries(), ids=[where for where, _ in queries()])
def test_queries_use_only_known_names_and_labels(where, expr):
    assert not unknown_names(expr)
    assert not unknown_labels(expr)


def test_the_datasource_provisioning_loads():
    datasource = provisioned_datasource()
    assert datasource["type"] == "prometheus"
    assert datasource["url"].startswith("http://")


def test_the_dashboard_provider_points_at_the_dashboards():
    (provider,) = load(GRAFANA / "provisioning" / "dashboards" / "voiceops.yml")["providers"]
    assert provider["type"] == "file"
    path = Path(provider["options"]["path"].replace("${VOICEOPS_REPO}", str(ROOT)))
    assert path.is_dir()
    assert sorted(path.glob("*.json")) == DASHBOARD_FILES
