"""The Prometheus rules and the Alertmanager config: promtool and amtool accept them, every
rule is unit-tested, and they use only the names monitoring/metrics.yml lists."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from tests.monitoring.names import (
    MONITORING,
    RULE_TESTS,
    RULES,
    contract,
    metric_names,
    recording_names,
    rules,
    tool,
    unknown_labels,
    unknown_names,
)

ALERTMANAGER_CONFIG = MONITORING / "alertmanager" / "alertmanager.yml"
README = MONITORING / "README.md"
SEVERITIES = {"critical", "warning"}


def run(*command: str) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=MONITORING.parent, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
    return done


def test_promtool_accepts_the_rules():
    run(tool("promtool"), "check", "rules", *map(str, RULES))


def test_promtool_accepts_the_prometheus_config():
    run(tool("promtool"), "check", "config", str(MONITORING / "prometheus" / "prometheus.yml"))


def test_promtool_unit_tests_pass():
    done = run(tool("promtool"), "test", "rules", *map(str, RULE_TESTS))
    assert "FAILED" not in done.stdout


def unit_tests() -> list[dict]:
    return [
        {**test, "rule_files": suite["rule_files"]}
        for path in RULE_TESTS
        for suite in [yaml.safe_load(path.read_text(encoding="utf-8"))]
        for test in suite["tests"]
    ]


def test_every_rule_file_has_unit_tests():
    tested = {name.rsplit("/", 1)[-1] for test in unit_tests() for name in test["rule_files"]}
    assert tested == {path.name for path in RULES}


@pytest.mark.parametrize("alert", contract()["alerts"])
def test_every_alert_is_tested_firing_and_not_firing(alert):
    cases = [
        case
        for test in unit_tests()
        for case in test.get("alert_rule_test", [])
        if case["alertname"] == alert
    ]
    assert any(case["exp_alerts"] for case in cases), f"{alert}: no test where it fires"
    assert any(not case["exp_alerts"] for case in cases), f"{alert}: no test where it stays quiet"


@pytest.mark.parametrize("record", sorted(recording_names()))
def test_every_recording_rule_is_evaluated_in_a_test(record):
    exprs = [case["expr"] for test in unit_tests() for case in test.get("promql_expr_test", [])]
    assert any(record in metric_names(expr) for expr in exprs)


def test_the_alerts_are_the_contracts():
    assert {rule["alert"] for rule in rules() if "alert" in rule} == set(contract()["alerts"])


def readme_anchors() -> set[str]:
    """GitHub's anchors of monitoring/README.md's headings."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", README.read_text(encoding="utf-8"), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", title).strip().lower().replace(" ", "-") for title in headings}


@pytest.mark.parametrize("rule", [r for r in rules() if "alert" in r], ids=lambda r: r["alert"])
def test_every_alert_has_severity_text_and_a_runbook(rule):
    assert rule["labels"]["severity"] in SEVERITIES
    annotations = rule["annotations"]
    assert annotations["summary"].strip() and annotations["description"].strip()
    path, _, anchor = annotations["runbook_url"].partition("#")
    assert path == "monitoring/README.md"
    assert anchor == rule["alert"].lower() and anchor in readme_anchors()


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r.get("alert") or r["record"])
def test_rules_use_only_known_names_and_labels(rule):
    assert not unknown_names(rule["expr"])
    assert not unknown_labels(rule["expr"])


def test_amtool_accepts_the_alertmanager_config():
    run(tool("amtool"), "check-config", str(ALERTMANAGER_CONFIG))


@pytest.mark.parametrize("severity", sorted(SEVERITIES))
def test_alerts_route_by_severity(severity):
    done = run(
        tool("amtool"),
        "config",
        "routes",
        "test",
        f"--config.file={ALERTMANAGER_CONFIG}",
        f"severity={severity}",
        "alertname=TensorFlowModelRequestHighErrorRate",
    )
    assert done.stdout.strip() == f"voiceops-{severity}"


def test_every_receiver_is_a_webhook():
    config = yaml.safe_load(ALERTMANAGER_CONFIG.read_text(encoding="utf-8"))
    for receiver in config["receivers"]:
        assert [hook["url"] for hook in receiver["webhook_configs"]]
