"""The PromQL reading the monitoring tests rely on, and monitoring/metrics.yml itself."""

from __future__ import annotations

from tests.monitoring.names import contract, matcher_labels, metric_names, metrics


def test_metric_names_skip_functions_labels_strings_and_durations():
    expr = """
      histogram_quantile(0.99, sum by (arm, le) (
        rate(voiceops_turn_stage_seconds_bucket{stage="total", arm=~"a|b"}[5m] offset 1h)))
      / on (arm) group_left (stage) max without (x) (arm:voiceops_turns:increase30m) > 1e6
      and time() - :tensorflow:serving:request_count > bool 0  # a comment names_no_metric
    """
    assert metric_names(expr) == {
        "voiceops_turn_stage_seconds_bucket",
        "arm:voiceops_turns:increase30m",
        ":tensorflow:serving:request_count",
    }


def test_matcher_labels_are_read_per_metric():
    expr = 'sum(rate(a_total{job="x", arm=~"$arm"}[5m])) / sum(b{le="+Inf"})'
    assert matcher_labels(expr) == {"a_total": {"job", "arm"}, "b": {"le"}}


def test_the_metrics_file_is_well_formed():
    names = [metric.name for metric in metrics()]
    assert len(names) == len(set(names))
    for metric in metrics():
        assert metric.type in {"counter", "gauge", "histogram"}
        assert metric.source in {"serving", "pipeline"}
        counter_suffix = metric.name.endswith("_total")
        # TF Serving's counters keep their names; prometheus_client's end in _total
        assert counter_suffix == (metric.type == "counter" and metric.name.startswith("voiceops_"))
    assert len(contract()["alerts"]) == len(set(contract()["alerts"]))


def test_the_serving_api_exposes_what_the_metrics_file_lists():
    """Every family the API's ServingMetrics declares, with its type and labels, is listed as
    a serving metric, and every listed serving metric is declared."""
    from prometheus_client.metrics import MetricWrapperBase

    from serving.metrics import ServingMetrics

    declared = {}
    for family in vars(ServingMetrics()).values():
        if isinstance(family, MetricWrapperBase):
            name = family._name  # prometheus_client appends _total to its counters' names
            if family._type == "counter" and name.startswith("voiceops_"):
                name += "_total"
            declared[name] = (family._type, frozenset(family._labelnames))
    listed = {m.name: (m.type, m.labels) for m in metrics() if m.source == "serving"}
    assert declared == listed
