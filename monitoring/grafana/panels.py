"""The four VoiceOps dashboards, panel by panel: each panel's PromQL uses the names in
``monitoring/metrics.yml`` and the recording rules of ``monitoring/prometheus/rules``.

Thresholds drawn on the panels are the alerts' (``monitoring/README.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

HOUR = 3600
RATE = "$__rate_interval"


@dataclass(frozen=True)
class Panel:
    title: str
    #: ``(PromQL, legend)`` per query
    queries: tuple[tuple[str, str], ...]
    unit: str = "short"
    kind: str = "timeseries"  # timeseries | stat | table
    threshold: float | None = None
    description: str = ""
    width: int = 12


@dataclass(frozen=True)
class Variable:
    """A multi-value ``$label`` filter listing the label's values on ``metric``."""

    label: str
    metric: str


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...]
    variables: tuple[Variable, ...] = ()
    time_from: str = "now-6h"


SERVING = Dashboard(
    uid="voiceops-serving",
    title="VoiceOps / Serving",
    description="The turn API: traffic, errors, latency against the SLO, batching, events.",
    variables=(Variable("arm", "voiceops_turns_total"),),
    panels=(
        Panel(
            "Turns per second by dialogue action",
            (
                (
                    f'sum by (action) (rate(voiceops_turns_total{{arm=~"$arm"}}[{RATE}]))',
                    "{{action}}",
                ),
            ),
            unit="reqps",
        ),
        Panel(
            "Request error ratio per model (alert over 5 %)",
            (("model_name:tensorflow_serving_request_errors:ratio_rate5m", "{{model_name}}"),),
            unit="percentunit",
            threshold=0.05,
            description="Requests not OK; model_name voiceops-bot is the whole turn.",
        ),
        Panel(
            "p99 turn latency (SLO 1 s)",
            (
                ('arm:voiceops_turn_latency_seconds:p99_rate5m{arm=~"$arm"}', "arm {{arm}}"),
                (
                    'model_name_API:tensorflow_serving_request_latency_seconds:p99_rate5m{API="turn"}',
                    "API (TF Serving metric)",
                ),
            ),
            unit="s",
            threshold=1,
        ),
        Panel(
            "Turn error ratio per arm",
            (('arm:voiceops_turn_errors:ratio_rate5m{arm=~"$arm"}', "{{arm}}"),),
            unit="percentunit",
        ),
        Panel(
            "Latency per stage, p50 and p99",
            (
                ("stage:voiceops_turn_stage_seconds:p50_rate5m", "p50 {{stage}}"),
                ("stage:voiceops_turn_stage_seconds:p99_rate5m", "p99 {{stage}}"),
            ),
            unit="s",
        ),
        Panel(
            "Requests per second by model and status",
            (
                (
                    "sum by (model_name, status) "
                    f"(rate(:tensorflow:serving:request_count[{RATE}]))",
                    "{{model_name}} {{status}}",
                ),
            ),
            unit="reqps",
        ),
        Panel(
            "p99 time inside each model",
            (
                (
                    "model_name:tensorflow_serving_runtime_latency_seconds:p99_rate5m",
                    "{{model_name}}",
                ),
            ),
            unit="s",
        ),
        Panel(
            "Batch queuing latency (alert: mean over 100 ms)",
            (
                (
                    "thread_pool_name:tensorflow_serving_batching_queuing_latency_seconds:mean_rate5m",
                    "mean",
                ),
                (
                    "thread_pool_name:tensorflow_serving_batching_queuing_latency_seconds:p99_rate5m",
                    "p99",
                ),
            ),
            unit="s",
            threshold=0.1,
        ),
        Panel(
            "Model graph runs per second",
            ((f"sum(rate(:tensorflow:core:graph_runs[{RATE}]))", "graph runs"),),
            unit="ops",
        ),
        Panel(
            "Turn events: buffered, lost (must stay 0)",
            (
                ("sum(voiceops_events_buffered)", "buffered"),
                ("sum(increase(voiceops_events_lost_total[15m]))", "lost in 15 min"),
            ),
            threshold=1,
        ),
    ),
)

MODELS = Dashboard(
    uid="voiceops-models",
    title="VoiceOps / Models & experiments",
    description="Loaded versions, experiment arms, online quality proxies and drift.",
    variables=(Variable("arm", "voiceops_turns_total"), Variable("family", "voiceops_model_info")),
    panels=(
        Panel(
            "Loaded model versions",
            (('voiceops_model_info{family=~"$family"}', ""),),
            kind="table",
        ),
        Panel(
            "Experiment exposures per second",
            (
                (
                    f"sum by (experiment, arm) (rate(voiceops_experiment_exposures_total[{RATE}]))",
                    "{{experiment}} {{arm}}",
                ),
            ),
            unit="ops",
        ),
        Panel(
            "Hand-off rate per arm, 30 min (alert over 20 %)",
            (('arm:voiceops_handoffs:ratio_rate30m{arm=~"$arm"}', "{{arm}}"),),
            unit="percentunit",
            threshold=0.2,
        ),
        Panel(
            "Empty transcripts per arm, 30 min (alert over 10 %)",
            (('arm:voiceops_empty_transcripts:ratio_rate30m{arm=~"$arm"}', "{{arm}}"),),
            unit="percentunit",
            threshold=0.1,
        ),
        Panel(
            "Low-confidence turns per arm, 30 min (alert over 25 %)",
            (('arm:voiceops_low_confidence_turns:ratio_rate30m{arm=~"$arm"}', "{{arm}}"),),
            unit="percentunit",
            threshold=0.25,
        ),
        Panel(
            "Turns per arm, 30 min (quality alerts need 50)",
            (('arm:voiceops_turns:increase30m{arm=~"$arm"}', "{{arm}}"),),
        ),
        Panel(
            "Median intent confidence per arm and NLU version",
            (
                (
                    "histogram_quantile(0.5, sum by (arm, nlu_version, le) "
                    f'(rate(voiceops_intent_confidence_bucket{{arm=~"$arm"}}[{RATE}])))',
                    "{{arm}} nlu v{{nlu_version}}",
                ),
            ),
            unit="percentunit",
        ),
        Panel(
            "Hand-off rate per language and arm",
            (
                (
                    f'sum by (language, arm) (rate(voiceops_handoffs_total{{arm=~"$arm"}}[{RATE}]))'
                    " / sum by (language, arm) "
                    f'(rate(voiceops_turns_total{{arm=~"$arm"}}[{RATE}]))',
                    "{{language}} {{arm}}",
                ),
            ),
            unit="percentunit",
        ),
        Panel(
            "Fallbacks to the champion per second",
            (
                (
                    "sum by (family, arm) "
                    f'(rate(voiceops_fallbacks_total{{family=~"$family"}}[{RATE}]))',
                    "{{family}} {{arm}}",
                ),
            ),
            unit="ops",
            description="An arm's pinned version was unusable and the champion answered.",
        ),
        Panel(
            "Drift of production inputs (alert: PSI over 0.25, KS over 0.2)",
            (
                (
                    'voiceops_drift_score{family=~"$family"}',
                    "{{family}} {{feature}} {{language}} {{method}}",
                ),
            ),
            threshold=0.25,
        ),
    ),
)

PIPELINE = Dashboard(
    uid="voiceops-pipeline",
    title="VoiceOps / Data pipeline",
    description="Publishes to the lake, ingestion quarantine, audits and failed runs.",
    time_from="now-7d",
    panels=(
        Panel(
            "Time since the last publish (alert over 26 h)",
            (("repository:voiceops_lake_publish_age_seconds", "{{repository}}"),),
            unit="s",
            kind="stat",
            threshold=26 * HOUR,
        ),
        Panel(
            "Last published commit",
            (("voiceops_lake_publish_info", ""),),
            kind="table",
        ),
        Panel(
            "Quarantined share of the last ingestion",
            (("voiceops_ingest_quarantined_ratio", "{{source}}"),),
            unit="percentunit",
        ),
        Panel(
            "Records of the last ingestion",
            (("voiceops_ingest_records", "{{source}} {{outcome}}"),),
        ),
        Panel(
            "Last publish audit",
            (("voiceops_audit_last_result == 1", "{{result}}"),),
            kind="stat",
        ),
        Panel(
            "Publish audits per day",
            (("sum by (result) (increase(voiceops_audit_runs_total[1d]))", "{{result}}"),),
        ),
        Panel(
            "Failed runs per day by job",
            (
                (
                    "sum by (dagster_job) (increase(voiceops_run_failures_total[1d]))",
                    "{{dagster_job}}",
                ),
            ),
        ),
        Panel(
            "Pipeline records readable",
            (("voiceops_pipeline_metrics_up", "{{part}}"),),
            description="0: that part's store (lake, audit, registry, failures) was unreadable.",
        ),
    ),
)

TRAINING = Dashboard(
    uid="voiceops-training",
    title="VoiceOps / Training",
    description="Training runs, test metrics, the gate's verdicts, retraining failures.",
    time_from="now-7d",
    variables=(Variable("family", "voiceops_training_duration_seconds"),),
    panels=(
        Panel(
            "Training duration of the last run",
            (('voiceops_training_duration_seconds{family=~"$family"}', "{{family}}"),),
            unit="s",
        ),
        Panel(
            "Training curves of the current run",
            (('voiceops_training_epoch_metric{family=~"$family"}', "{{family}} {{metric}}"),),
            description="Pushed after every epoch (training/common/callbacks.py).",
        ),
        Panel(
            "Test metrics per version",
            (('voiceops_model_test_metric{family=~"$family"}', ""),),
            kind="table",
            width=24,
        ),
        Panel(
            "Gate verdicts per week",
            (
                (
                    "sum by (family, verdict) "
                    '(increase(voiceops_gate_verdicts_total{family=~"$family"}[7d]))',
                    "{{family}} {{verdict}}",
                ),
            ),
        ),
        Panel(
            "Retraining failures in 6 h (alert over 0)",
            (
                (
                    "increase(voiceops_retraining_failures_total[6h])",
                    "{{dagster_job}}",
                ),
            ),
            threshold=1,
        ),
        Panel(
            "Age of the champions' training data",
            (('family:voiceops_champion_data_age_seconds{family=~"$family"}', "{{family}}"),),
            unit="s",
            kind="stat",
        ),
        Panel(
            "Last finished epoch",
            (('voiceops_training_epoch{family=~"$family"}', "{{family}}"),),
            kind="stat",
        ),
    ),
)

DASHBOARDS = (SERVING, MODELS, PIPELINE, TRAINING)
