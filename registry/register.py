"""Register a trained model: MLflow run + model version with lineage, then the gate.

    version = register("nlu", info, settings=settings)   # -> Registration

The version is created before the gate runs, so a refused version stays registered, tagged
``gate.verdict=refused`` with its reasons. A passing one becomes ``@challenger`` (and
``@champion`` too when there is none yet and the policy says so). The version's artifact is
an MLflow pyfunc model wrapping the SavedModel (``registry.mlflow_model``). The gate
smoke-tests it as the registry stores it, and its verdict is appended to the verdict table
(``registry.verdicts``) with the SHA-256 of the whole MLflow model directory: the tags are
for people to read. The run also carries the training curves (and per family the confusion
matrix or error table) drawn by ``training.common.figures``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow import MlflowClient
from mlflow.entities import LoggedModel, Metric, Param
from mlflow.entities.model_registry import ModelVersion

from core.settings import Settings
from core.trail import open_trail, record
from registry.champion import beats, compare_with_champion
from registry.gate import RuleResult, Scores, Verdict, evaluate_gate
from registry.history import AliasHistory
from registry.lineage import code_revision, lake_lineage, rows_hash, split_counts, split_rows
from registry.mlflow_model import log_pyfunc_model, saved_model_dir, stored_model
from registry.policy import Policy, load_policy
from registry.tracking import client, experiment_id, history_url
from registry.training_info import TRAIN_SECONDS, TrainingInfo
from registry.verdicts import VerdictStore, artifact_digest, new_verdict
from registry.versions import (
    CHALLENGER,
    CHAMPION,
    aliases,
    all_versions,
    by_alias,
    ensure_registered,
    tag_json,
)
from training.families import Family, family
from versioning.lake import Lake
from warehouse.audits import audit_log

#: Version tags every registered version carries.
LINEAGE_TAGS = (
    "lineage.lake_repository",
    "lineage.lake_commit",
    "lineage.verified",
    "lineage.audited_commit",
    "lineage.dbt_manifest_hash",
    "lineage.checks_passed",
    "lineage.ingestion_runs",
    "lineage.data_rows",
    "lineage.data_hash",
    "lineage.test_data_hash",
    "lineage.code_revision",
    "lineage.code_version",
    "lineage.config_hash",
    "lineage.dagster_run_id",
    "lineage.champion_compared",
)


@dataclass
class Registration:
    """A registered version and the gate's verdict on it."""

    family: str
    model: str
    version: str
    run_id: str
    source: str
    verdict: Verdict
    aliases: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "model": self.model,
            "version": self.version,
            "run_id": self.run_id,
            "source": self.source,
            "verdict": self.verdict.to_dict(),
            "aliases": self.aliases,
        }


def _params(config: dict[str, Any]) -> list[Param]:
    return [Param(str(k), str(v)[:6000]) for k, v in sorted(config.items())]


def _metrics(info: TrainingInfo) -> list[Metric]:
    now = int(time.time() * 1000)
    out = [
        Metric(f"{split}/{lang}/{name}", float(value), now, 0)
        for split, languages in info.scores.items()
        for lang, metrics in languages.items()
        for name, value in metrics.items()
        if isinstance(value, int | float)
    ]
    out += [
        Metric(f"epoch/{name}", float(value), now, step)
        for name, values in info.history.items()
        for step, value in enumerate(values)
    ]
    if info.train_seconds:
        out.append(Metric(TRAIN_SECONDS, float(info.train_seconds), now, 0))
    return out


def _log_run(
    mlflow: MlflowClient, settings: Settings, fam: Family, info: TrainingInfo, lineage: dict
) -> tuple[Any, LoggedModel]:
    """The MLflow run: params, metrics, TensorBoard logs, figures, lineage.json, and the
    model (the SavedModel as an MLflow pyfunc model)."""
    experiment = experiment_id(mlflow, settings, fam.name)
    run = mlflow.create_run(
        experiment,
        run_name=f"{fam.name}-{info.lake_commit[:8]}-{info.config_hash[:8]}",
        tags={
            "voiceops.family": fam.name,
            "voiceops.lake_commit": info.lake_commit,
            "voiceops.dagster_run_id": info.dagster_run_id,
        },
    )
    run_id = run.info.run_id
    for start in range(0, len(params := _params(info.config)), 100):
        mlflow.log_batch(run_id, params=params[start : start + 100])
    for start in range(0, len(metrics := _metrics(info)), 1000):
        mlflow.log_batch(run_id, metrics=metrics[start : start + 1000])
    board = info.run_dir / "tensorboard" if info.run_dir else None
    if board is not None and board.is_dir():
        mlflow.log_artifacts(run_id, str(board), "tensorboard")
    if info.run_dir is not None and info.run_dir.is_dir():
        from training.common.figures import FIGURES_DIR, figure_files  # matplotlib: on use

        for figure in figure_files(info.run_dir, info.history):
            mlflow.log_artifact(run_id, str(figure), FIGURES_DIR)
    mlflow.log_dict(run_id, lineage, "lineage.json")
    logged = log_pyfunc_model(mlflow, experiment, run_id, fam.name, info.model_path)
    return run, logged


def _lineage_tags(lineage: dict[str, Any]) -> dict[str, str]:
    lake = lineage["lake"]
    return {
        "lineage.lake_repository": lake["repository"],
        "lineage.lake_commit": lake["commit"],
        "lineage.verified": str(lake["verified"]).lower(),
        "lineage.audited_commit": lake["audited_commit"],
        "lineage.dbt_manifest_hash": lake["dbt_manifest_hash"],
        "lineage.checks_passed": ",".join(lake["checks_passed"]),
        "lineage.checks_failed": ",".join(lake["checks_failed"]),
        "lineage.ingestion_runs": ",".join(r["run_id"] for r in lake["ingestion_runs"]),
        "lineage.data_rows": json.dumps(lineage["data"]["rows"], sort_keys=True),
        "lineage.data_hash": lineage["data"]["hash"],
        "lineage.test_data_hash": lineage["data"]["test_hash"],
        "lineage.code_revision": lineage["code"]["revision"],
        "lineage.code_version": lineage["code"]["family_version"],
        "lineage.config_hash": lineage["config_hash"],
        "lineage.dagster_run_id": lineage["dagster_run_id"] or "none",
        "lineage.fingerprint": lineage["fingerprint"],
    } | _parent_tags(lineage.get("parent"))


def _parent_tags(parent: dict[str, str] | None) -> dict[str, str]:
    """The version a fine-tuned model started from (``--init-from``), if any."""
    if not parent:
        return {}
    return {"lineage.parent_version": parent["version"], "lineage.parent_run_id": parent["run_id"]}


def model_dir(version: ModelVersion, settings: Settings) -> Path:
    """A local directory holding the version's SavedModel (downloaded once if remote)."""
    return saved_model_dir(stored_model(version, settings))


def gate_version(
    fam: Family,
    stored: Path,
    scores: Scores,
    lineage: dict[str, Any],
    policy: Policy,
    champion: ModelVersion | None,
    settings: Settings,
    rows: Callable[[], list[dict[str, Any]]],
    *,
    stt_model: Path | None = None,
) -> Verdict:
    """The gate's verdict on the stored version; a ``champion`` is compared with it on
    ``rows()`` (read only then)."""
    return evaluate_gate(
        fam.name,
        stored,
        scores,
        lineage,
        policy,
        None
        if champion is None
        else (
            champion.version,
            lambda: compare_with_champion(
                fam,
                saved_model_dir(stored),
                model_dir(champion, settings),
                rows(),
                policy,
                stt_model=stt_model,
            ),
        ),
    )


def register(
    family_name: str,
    info: TrainingInfo,
    *,
    settings: Settings,
    lake: Lake | None = None,
    rows: list[dict[str, Any]] | None = None,
    policy: Policy | None = None,
) -> Registration:
    """Log, register, gate and (if it passes) alias one trained model; see module doc."""
    fam = family(family_name)
    policy = policy or load_policy(settings.gate_policy)
    mlflow = client(settings)
    if (known := registered_fingerprint(mlflow, fam.model_name, info.fingerprint)) is not None:
        return registration_of(mlflow, fam, known)
    if lake is None:
        from versioning.lake import open_lake

        lake = open_lake(settings)
    cached: dict[str, list[dict[str, Any]]] = {}

    def all_rows() -> list[dict[str, Any]]:
        if "rows" not in cached:
            cached["rows"] = rows if rows is not None else _read_rows(fam, settings, info)
        return cached["rows"]

    data = all_rows() if rows is not None else None
    lineage = {
        "family": fam.name,
        "lake": lake_lineage(
            lake,
            settings.lake_repository,
            info.lake_commit,
            audit_log(settings),
            info.marts_manifest_hash,
        ),
        "data": {
            "rows": info.data_rows or (split_counts(data) if data else {}),
            "hash": info.data_hash or (rows_hash(data) if data else ""),
            "test_hash": rows_hash(split_rows(data, policy.split)) if data else "",
        },
        "code": {"revision": code_revision(), "family_version": info.code_version},
        "config": info.config,
        "config_hash": info.config_hash,
        "fingerprint": info.fingerprint,
        "dagster_run_id": info.dagster_run_id,
        "policy_sha256": policy.sha256,
        "parent": _parent(fam, info.config),
    }
    if not lineage["data"]["test_hash"]:
        try:
            lineage["data"]["test_hash"] = rows_hash(split_rows(all_rows(), policy.split))
        except Exception as error:  # the warehouse moved on: rule 3 uses recorded scores
            lineage["data"]["test_hash"] = f"unavailable: {type(error).__name__}"
    run, logged = _log_run(mlflow, settings, fam, info, lineage)
    ensure_registered(mlflow, fam.model_name, f"VoiceOps {fam.name.upper()} model")
    champion = by_alias(mlflow, fam.model_name, CHAMPION)
    scores = gated_scores(info.scores, policy.split)
    version = mlflow.create_model_version(
        fam.model_name,
        logged.artifact_location,
        run_id=run.info.run_id,
        model_id=logged.model_id,
        tags=_lineage_tags(lineage)
        | {
            "lineage.champion_compared": champion.version if champion else "none",
            "lineage.policy_sha256": policy.sha256,
            "scores.test": json.dumps(scores, sort_keys=True),
            "gate.verdict": "pending",
        },
    )
    stored = stored_model(version, settings)  # the artifact users will get, not the export
    verdict = gate_version(
        fam,
        stored,
        scores,
        lineage["lake"],
        policy,
        champion,
        settings,
        all_rows,
        stt_model=info.stt_model_path,
    )
    return conclude(
        mlflow,
        settings,
        fam,
        Concluded(version, stored, verdict, champion, policy, run.info.run_id),
        lake_commit=info.lake_commit,
        marts_manifest_hash=info.marts_manifest_hash,
    )


@dataclass(frozen=True)
class Concluded:
    """A registered version and the gate's verdict on it, before they are recorded."""

    version: ModelVersion
    stored: Path
    verdict: Verdict
    champion: ModelVersion | None
    policy: Policy
    run_id: str


def conclude(
    mlflow: MlflowClient,
    settings: Settings,
    fam: Family,
    done: Concluded,
    *,
    lake_commit: str,
    marts_manifest_hash: str,
) -> Registration:
    """Record the verdict (version tags and the verdict history), end the run and, when it
    passed, set the aliases: the last steps of every registration, trained or imported."""
    version, verdict, champion = done.version, done.verdict, done.champion
    record_verdict(mlflow, fam.model_name, version.version, verdict)
    VerdictStore(history_url(settings)).record(
        new_verdict(
            fam.model_name,
            version.version,
            verdict.passed,
            verdict.to_dict()["rules"],
            lake_repository=settings.lake_repository,
            lake_commit=lake_commit,
            marts_manifest_hash=marts_manifest_hash,
            artifact_sha256=artifact_digest(done.stored),
            policy_sha256=done.policy.sha256,
            champion_compared=champion.version if champion else None,
            beats_champion=beats(verdict.champion_comparison)
            if verdict.champion_comparison is not None
            else None,
        )
    )
    mlflow.set_terminated(done.run_id)
    if verdict.passed:
        alias_passing(mlflow, settings, fam.model_name, version.version, champion, done.policy)
    return Registration(
        fam.name,
        fam.model_name,
        str(version.version),
        done.run_id,
        version.source,
        verdict,
        aliases(mlflow, fam.model_name),
    )


def _parent(fam: Family, config: dict[str, Any]) -> dict[str, str] | None:
    """The registered version the training started from (its config's ``init_from``)."""
    if not config.get("init_from"):
        return None
    version, run_id = str(config["init_from"]), str(config.get("init_from_run_id", ""))
    return {"model": fam.model_name, "version": version, "run_id": run_id}


def gated_scores(scores: dict[str, Any], split: str = "test") -> Scores:
    """The split's scores per language, with each subset ``<split>_<subset>`` flattened in as
    ``<subset>_<metric>`` (e.g. NLU's ``unseen_phrasing_intent_accuracy``)."""
    gated: Scores = {lang: dict(metrics) for lang, metrics in scores.get(split, {}).items()}
    for name, languages in scores.items():
        if not name.startswith(f"{split}_"):
            continue
        subset = name.removeprefix(f"{split}_")
        for language, metrics in languages.items():
            for metric, value in metrics.items():
                gated.setdefault(language, {})[f"{subset}_{metric}"] = value
    return gated


def registered_fingerprint(
    mlflow: MlflowClient, model: str, fingerprint: str
) -> ModelVersion | None:
    """The version already registered for this data + config + code (None if none yet)."""
    if not fingerprint:
        return None
    found = [
        v for v in all_versions(mlflow, model) if v.tags.get("lineage.fingerprint") == fingerprint
    ]
    return found[-1] if found else None


def registration_of(mlflow: MlflowClient, fam: Family, version: ModelVersion) -> Registration:
    """A :class:`Registration` of an existing version, from its tags."""
    rules = [RuleResult(**r) for r in tag_json(version, "gate.rules", [])]
    return Registration(
        fam.name,
        fam.model_name,
        str(version.version),
        version.run_id,
        version.source,
        Verdict(rules, tag_json(version, "gate.champion_comparison")),
        aliases(mlflow, fam.model_name),
    )


def _read_rows(fam: Family, settings: Settings, info: TrainingInfo) -> list[dict[str, Any]]:
    """The family's mart rows at the version's lake commit, read as its training read them."""
    return fam.module("data").load_rows(settings, info.lake_commit)


def record_verdict(mlflow: MlflowClient, model: str, version: str, verdict: Verdict) -> None:
    tags = {
        "gate.verdict": "passed" if verdict.passed else "refused",
        "gate.reasons": "\n".join(verdict.reasons),
        "gate.rules": json.dumps(verdict.to_dict()["rules"], ensure_ascii=False),
        "gate.smoke": json.dumps(verdict.smoke or {}, ensure_ascii=False, default=str),
    }
    if verdict.champion_comparison is not None:
        tags["gate.champion_comparison"] = json.dumps(verdict.champion_comparison)[:5000]
        tags["gate.beats_champion"] = str(beats(verdict.champion_comparison)).lower()
    for key, value in tags.items():
        mlflow.set_model_version_tag(model, version, key, value)


def alias_passing(
    mlflow: MlflowClient,
    settings: Settings,
    model: str,
    version: str,
    champion: ModelVersion | None,
    policy: Policy,
) -> None:
    """``@champion`` when there is none yet (and the policy says so), else ``@challenger``."""
    history = AliasHistory(history_url(settings))
    if champion is None and policy.promote_first_passing:
        trail = open_trail(settings)
        reason = "first version to pass the gate"
        mlflow.set_registered_model_alias(model, CHAMPION, version)
        history.record(model, CHAMPION, "promote", None, version, reason)
        details = {"alias": CHAMPION, "from_version": None, "to_version": version}
        record(trail, "promote", f"model:{model}/v{version}", details | {"reason": reason})
        return
    old = aliases(mlflow, model).get(CHALLENGER)
    mlflow.set_registered_model_alias(model, CHALLENGER, version)
    history.record(model, CHALLENGER, "challenger", old, version, "passed the gate")
