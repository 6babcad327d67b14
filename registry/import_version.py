"""Import a pretrained model as a registered version of a family, through the same gate.

    import_version("stt", "pocketsphinx-en-us", settings=settings)   # -> Registration
    import_version("nlu", "/path/to/saved_model", settings=settings, licence="MIT")

The artifact (``registry.external``: model files + ``external.json``) is logged as the
family's MLflow pyfunc model, scored on every ``test*`` split of the published mart's rows
(``registry.external_eval``, per language), and registered. Its lineage is the artifact's
SHA-256, source and licence, and the lake commit it was *evaluated* on (it was not trained
from the lake). The gate's four rules run as for a trained version: lineage (the stored
files re-hashed), thresholds, the paired comparison with the champion on the same test rows,
and the fresh-process smoke test of the stored artifact. A refused import stays registered,
tagged refused, and gets no alias. Importing the same files again returns the version.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from mlflow import MlflowClient
from mlflow.entities import Metric, Param

from core.settings import Settings
from registry.external import Manifest, build_artifact
from registry.external import problems as external_problems
from registry.external_eval import evaluate_splits
from registry.lineage import code_revision, split_counts
from registry.mlflow_model import log_pyfunc_model, saved_model_dir, stored_model
from registry.policy import Policy, load_policy
from registry.pyfunc import SAVED_MODEL
from registry.register import (
    Concluded,
    Registration,
    conclude,
    gate_version,
    gated_scores,
    registered_fingerprint,
    registration_of,
)
from registry.tracking import client, experiment_id
from registry.used_models import models_for_scoring
from registry.versions import CHAMPION, by_alias, ensure_registered
from training.families import Family, family

Rows = list[dict[str, Any]]


def published_rows(fam: Family, settings: Settings) -> tuple[Rows, str, str]:
    """The family's mart rows at the published commit, with the commit and manifest hash."""
    from training.steps import published_data

    commit, manifest_hash = published_data(settings, "")
    return fam.module("data").load_rows(settings, commit), commit, manifest_hash


def external_lineage(stored: Path, manifest: Manifest) -> dict[str, Any]:
    """What rule 1 checks for an import: the stored files re-hashed, a declared licence."""
    problems = external_problems(saved_model_dir(stored))
    if manifest.licence.startswith("unknown"):
        problems.append("the licence of the imported model is not declared (--licence)")
    return {"verified": not problems, "problems": problems, "external": manifest.to_dict()}


def _metrics(scores: dict[str, Any]) -> list[Metric]:
    now = int(time.time() * 1000)
    return [
        Metric(f"{split}/{language}/{name}", float(value), now, 0)
        for split, languages in scores.items()
        for language, metrics in languages.items()
        for name, value in metrics.items()
    ]


def _version_tags(manifest: Manifest, lineage: dict[str, Any]) -> dict[str, str]:
    evaluated = lineage["evaluated_on"]
    return {
        "lineage.kind": "external",
        "lineage.source": manifest.source,
        "lineage.licence": manifest.licence,
        "lineage.artifact_sha256": manifest.sha256,
        "lineage.engine": manifest.engine,
        "lineage.languages": ",".join(manifest.languages),
        "lineage.lake_commit": "",
        "lineage.evaluated_commit": evaluated["lake_commit"],
        "lineage.data_rows": json.dumps(evaluated["rows"], sort_keys=True),
        "lineage.code_revision": lineage["code"]["revision"],
        "lineage.fingerprint": lineage["fingerprint"],
        "lineage.policy_sha256": lineage["policy_sha256"],
        "languages": ",".join(manifest.languages),
    }


def _log_run(
    mlflow: MlflowClient, settings: Settings, fam: Family, artifact: Path, lineage: dict, scores
) -> tuple[str, Any]:
    """The import's MLflow run: source params, scores, ``lineage.json`` and the model."""
    manifest = lineage["external"]
    experiment = experiment_id(mlflow, settings, fam.name)
    run = mlflow.create_run(
        experiment,
        run_name=f"{fam.name}-import-{manifest['sha256'][:8]}",
        tags={"voiceops.family": fam.name, "voiceops.external_source": manifest["source"]},
    )
    run_id = run.info.run_id
    params = [
        Param(key, str(manifest[key])) for key in ("source", "licence", "engine", "sha256")
    ] + [Param("languages", ",".join(manifest["languages"]))]
    mlflow.log_batch(run_id, params=params, metrics=_metrics(scores))
    mlflow.log_dict(run_id, lineage, "lineage.json")
    return run_id, log_pyfunc_model(mlflow, experiment, run_id, fam.name, artifact)


def import_version(
    family_name: str,
    source: str,
    *,
    settings: Settings,
    licence: str = "",
    rows: Rows | None = None,
    evaluated_commit: str = "",
    policy: Policy | None = None,
    used_models: dict[str, Path] | None = None,
) -> Registration:
    """Register ``source`` as a version of the family, gate it, alias it if it passes.

    ``rows`` (with ``evaluated_commit``) replace the published mart's rows (tests, benches);
    ``used_models`` are the models it is scored with (TTS: ``{"stt": path}``; else the STT
    champion, ``registry.used_models``).
    """
    fam = family(family_name)
    policy = policy or load_policy(settings.gate_policy)
    models, scored_with = models_for_scoring(fam, settings, used_models)
    mlflow = client(settings)
    manifest_hash = ""
    with tempfile.TemporaryDirectory(prefix=f"voiceops-import-{fam.name}-") as work:
        # MLflow keeps the artifact under its directory name, which readers expect
        artifact = Path(work) / SAVED_MODEL
        manifest = build_artifact(fam.name, source, artifact, licence=licence)
        fingerprint = f"external:{manifest.sha256}"
        if (known := registered_fingerprint(mlflow, fam.model_name, fingerprint)) is not None:
            return registration_of(mlflow, fam, known)
        if rows is None:
            rows, evaluated_commit, manifest_hash = published_rows(fam, settings)
        scores = evaluate_splits(fam.name, artifact, rows, **models)
        lineage = {
            "family": fam.name,
            "external": manifest.to_dict(),
            "evaluated_on": {
                "lake_repository": settings.lake_repository,
                "lake_commit": evaluated_commit,
                "marts_manifest_hash": manifest_hash,
                "rows": split_counts(rows),
            },
            "code": {"revision": code_revision()},
            "config": {},
            "fingerprint": fingerprint,
            "policy_sha256": policy.sha256,
            "scored_with": scored_with,
            "scores": scores,
        }
        run_id, logged = _log_run(mlflow, settings, fam, artifact, lineage, scores)
    ensure_registered(mlflow, fam.model_name, f"VoiceOps {fam.name.upper()} model")
    champion = by_alias(mlflow, fam.model_name, CHAMPION)
    gated = gated_scores(scores, policy.split)
    version = mlflow.create_model_version(
        fam.model_name,
        logged.artifact_location,
        run_id=run_id,
        model_id=logged.model_id,
        tags=_version_tags(manifest, lineage)
        | {
            "lineage.champion_compared": champion.version if champion else "none",
            "scores.test": json.dumps(gated, sort_keys=True),
            "gate.verdict": "pending",
        },
    )
    stored = stored_model(version, settings)
    verdict = gate_version(
        fam,
        stored,
        gated,
        external_lineage(stored, manifest),
        policy,
        champion,
        settings,
        lambda: rows,
        stt_model=models.get("stt_model"),
    )
    return conclude(
        mlflow,
        settings,
        fam,
        Concluded(version, stored, verdict, champion, policy, run_id),
        lake_commit="",
        marts_manifest_hash="",
    )
