"""Model metrics from the MLflow registry and the gate's verdict table.

Per family: how long the newest registered version took to train (its run's
``train_seconds``), the test-split scores (``scores.test`` tag) of the champion, the
challenger and the newest version, the gate's verdicts (the append-only verdict table, not
the editable tags) and when the lake commit the champion was trained on was made.
"""

from __future__ import annotations

from collections.abc import Iterator

from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from core.settings import Settings
from registry.tracking import client, history_url
from registry.training_info import TRAIN_SECONDS
from registry.verdicts import VerdictStore
from registry.versions import CHALLENGER, CHAMPION, aliases, all_versions, tag_json
from training.families import FAMILIES
from versioning.lake import LakeError, open_lake

VERDICTS = {True: "passed", False: "refused"}


def registry_exists(settings: Settings) -> bool:
    """Whether there is a registry to read (the embedded one is not created just to look)."""
    return bool(settings.mlflow_tracking_uri) or (settings.home / "mlflow" / "mlflow.db").is_file()


def shown_versions(versions: list[ModelVersion], pointers: dict[str, str]) -> list[ModelVersion]:
    """The champion, the challenger and the newest version (each once)."""
    wanted = {pointers.get(CHAMPION), pointers.get(CHALLENGER), versions[-1].version}
    return [v for v in versions if str(v.version) in {str(w) for w in wanted if w}]


def data_commit_time(settings: Settings, version: ModelVersion) -> float | None:
    """When the lake commit ``version`` was trained on was made (None: unknown or gone)."""
    commit = version.tags.get("lineage.lake_commit")
    if not commit:
        return None
    repository = version.tags.get("lineage.lake_repository") or settings.lake_repository
    try:
        return open_lake(settings).get_commit(repository, commit).creation_date
    except LakeError:
        return None


def _family_metrics(
    settings: Settings, mlflow: MlflowClient, name: str, families: dict[str, Metric]
) -> None:
    model = FAMILIES[name].model_name
    versions = all_versions(mlflow, model)
    if not versions:
        return
    pointers = aliases(mlflow, model)
    newest = versions[-1]
    run = mlflow.get_run(newest.run_id) if newest.run_id else None
    seconds = run.data.metrics.get(TRAIN_SECONDS) if run is not None else None
    if seconds is not None:
        families["duration"].add_metric([name], seconds)
    for version in shown_versions(versions, pointers):
        for language, metrics in tag_json(version, "scores.test", {}).items():
            for metric, value in sorted(metrics.items()):
                if isinstance(value, int | float):
                    labels = [name, metric, str(version.version), language]
                    families["test"].add_metric(labels, float(value))
    champion = next((v for v in versions if str(v.version) == pointers.get(CHAMPION)), None)
    made = data_commit_time(settings, champion) if champion is not None else None
    if made is not None:
        families["champion"].add_metric([name], made)


def model_metrics(settings: Settings) -> Iterator[Metric]:
    """``voiceops_training_duration_seconds``, ``voiceops_model_test_metric``,
    ``voiceops_gate_verdicts_total`` and ``voiceops_champion_data_commit_timestamp_seconds``."""
    families: dict[str, Metric] = {
        "duration": GaugeMetricFamily(
            "voiceops_training_duration_seconds",
            "Training time of the family's newest registered version.",
            labels=["family"],
        ),
        "test": GaugeMetricFamily(
            "voiceops_model_test_metric",
            "Test-split score of the champion, the challenger and the newest version.",
            labels=["family", "metric", "version", "language"],
        ),
        "champion": GaugeMetricFamily(
            "voiceops_champion_data_commit_timestamp_seconds",
            "When the lake commit the family's champion was trained on was made.",
            labels=["family"],
        ),
    }
    verdicts = CounterMetricFamily(
        "voiceops_gate_verdicts", "The registry gate's verdicts.", labels=["family", "verdict"]
    )
    if registry_exists(settings):
        mlflow = client(settings)
        for name in FAMILIES:
            _family_metrics(settings, mlflow, name, families)
        counts = VerdictStore(history_url(settings)).counts()
    else:
        counts = {}
    for name, family in FAMILIES.items():
        for passed, verdict in VERDICTS.items():
            verdicts.add_metric([name, verdict], counts.get((family.model_name, passed), 0))
    yield from (families["duration"], families["test"], verdicts, families["champion"])
