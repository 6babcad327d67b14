"""The training life cycle as separate steps, each one process (a Kubeflow Pipelines task):
data at a lake commit -> train -> evaluate; registration is ``registry.register``.

The steps call what the Dagster training asset calls (``published_build``,
``Family.load_rows``, ``Family.config``, ``Family.run``, ``Family.evaluate_exported``) and
hand over a training record with the keys of the asset's metadata, so the registry reads
it with ``TrainingInfo.from_metadata`` as it reads a materialization.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.errors import InputError
from core.settings import Settings
from training.common.data import StaleDataError, published_build
from training.common.lineage import fingerprint, rows_hash, split_counts
from training.common.scores import target_metrics
from training.families import Family
from training.families import family as get_family

#: Where every family's ``train.run`` exports the SavedModel inside its run directory.
SAVED_MODEL = "saved_model"
#: The training record's copy inside the run directory (read by steps that get only the model).
RECORD = "training_record.json"


def saved_model_in(path: Path) -> Path:
    """The SavedModel at ``path``: a run directory holding ``saved_model/``, or the SavedModel
    itself (a pipeline hands a run directory from step to step as one artifact)."""
    path = Path(path)
    return path / SAVED_MODEL if (path / SAVED_MODEL).is_dir() else path


def published_data(settings: Settings, commit: str = "") -> tuple[str, str]:
    """The lake commit to train on and the dbt manifest hash of its marts: the published
    build, which must be of ``commit`` when one is given (else a clear error)."""
    try:
        build = published_build(settings)
    except StaleDataError as error:
        raise InputError(f"the published marts cannot be trained on: {error}") from None
    if build is None:
        raise InputError("nothing published yet: run the audit-publish pipeline first")
    if commit and not build.lake_commit.startswith(commit):
        raise InputError(
            f"the published marts are a build of lake commit {build.lake_commit[:12]}, "
            f"not of {commit[:12]}: publish that commit first"
        )
    return build.lake_commit, build.manifest_hash


def _fingerprint_of(model: Path) -> str:
    """The fingerprint of the run that exported ``model`` (its record beside the SavedModel),
    as the Dagster asset chains the STT model's fingerprint into TTS's; else the path."""
    record = Path(model).parent / RECORD
    if record.is_file():
        return str(json.loads(record.read_text()).get("fingerprint") or model)
    return str(model)


def with_parent(family: Family, config: Any, parent: dict[str, Any]) -> tuple[Any, dict]:
    """``config`` naming the parent version and run, and ``{"init_model": path}`` for the
    family's ``run``; only a family whose config has ``init_from`` can start from one."""
    from dataclasses import fields, replace

    if "init_from" not in {f.name for f in fields(config)}:
        raise InputError(f"{family.name} training cannot start from a registered version")
    config = replace(config, init_from=parent["version"], init_from_run_id=parent["run_id"])
    return config, {"init_model": Path(parent["saved_model"])}


def train(
    settings: Settings,
    family_name: str,
    commit: str,
    size: str,
    run_dir: Path,
    used_models: dict[str, Path] | None = None,
    parent: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train ``family_name`` on its published mart at ``commit``; the training record.

    ``parent`` (``{"version", "run_id", "saved_model"}``: a registered version resolved by
    the caller, ``registry.parents``) makes training start from its weights; the config
    records its version and run id."""
    family = get_family(family_name)
    lake_commit, manifest = published_data(settings, commit)
    rows = family.load_rows(settings, lake_commit)
    if not any(row.get("split") == "train" for row in rows):
        raise InputError(f"{family.mart} has no train rows at lake commit {lake_commit}")
    used_models = used_models or {}
    used_models = {name: saved_model_in(path) for name, path in used_models.items()}
    missing = sorted(set(family.uses_models) - set(used_models))
    if missing:
        raise InputError(f"{family.name} is scored with the {', '.join(missing)} model: pass it")
    config, start = family.config(size), {}
    if parent is not None:
        config, start = with_parent(family, config, parent)
    data_hash = rows_hash(rows)
    code = ":".join([family.code, *(_fingerprint_of(used_models[n]) for n in family.uses_models)])
    summary = family.run(
        rows,
        config,
        Path(run_dir),
        **{f"{name}_model": used_models[name] for name in used_models},
        **start,
    )
    record = {
        "family": family.name,
        "model_path": str(summary.model_path),
        "run_dir": str(summary.model_path.parent),
        "lake_commit": lake_commit,
        "lake_repository": settings.lake_repository,
        "marts_manifest_hash": manifest,
        "data_hash": data_hash,
        "data_rows": split_counts(rows),
        "config": config.to_dict(),
        "config_hash": config.config_hash(),
        "code_version": family.code,
        "fingerprint": fingerprint(data_hash, config.config_hash(), code),
        "scores": summary.scores,
        "history": summary.history,
        "train_seconds": round(summary.seconds, 1),
        "epochs": summary.epochs,
        "params": summary.params,
        **{f"{name}_model_path": str(path) for name, path in used_models.items()},
    }
    write_json(Path(run_dir) / RECORD, record)  # travels with the run directory
    return record


def refuse_unused_models(family: Family, given: Mapping[str, Any]) -> None:
    """A clear error naming each model in ``given`` that ``family`` is not scored with."""
    unused = sorted(set(given) - set(family.uses_models))
    if unused:
        raise InputError(f"{family.name} is not scored with the {', '.join(unused)} model")


def scoring_models(
    family: Family, record: dict[str, Any], used_models: dict[str, Path] | None = None
) -> dict[str, Path]:
    """``{"<family>_model": SavedModel}`` of each model ``family`` is scored with (TTS: the
    STT model): the one in ``used_models`` (a pipeline hands it on as an artifact), else the
    one its training run used, where the record says it is; a clear error when one is
    missing or not used."""
    given = {name: saved_model_in(path) for name, path in (used_models or {}).items()}
    refuse_unused_models(family, given)
    for name in family.uses_models:
        recorded = record.get(f"{name}_model_path")
        if name not in given and recorded and Path(recorded).is_dir():
            given[name] = Path(recorded)
    missing = sorted(set(family.uses_models) - set(given))
    if missing:
        raise InputError(f"{family.name} is scored with the {', '.join(missing)} model: pass it")
    return {f"{name}_model": given[name] for name in family.uses_models}


def evaluate(
    settings: Settings,
    record: dict[str, Any],
    model_dir: Path | None = None,
    used_models: dict[str, Path] | None = None,
) -> dict[str, Any]:
    """Score the exported model of ``record`` on the test splits of its commit that a
    training run scores (``Family.test_splits``: STT ``test_real`` and ``test_channel``,
    NLU ``test_human``...) with the inputs training scores with (``Family.scoring_inputs``;
    TTS: the STT model of :func:`scoring_models`, for its ``cer_ratio``): the scores per
    split and language and the family's training targets it missed, named as the Dagster
    training asset names them."""
    family = get_family(record["family"])
    models = scoring_models(family, record, used_models)
    rows = family.load_rows(settings, record["lake_commit"])
    model = saved_model_in(model_dir or record["model_path"])
    inputs = family.scoring_inputs(rows, **models)
    scores = {
        split: family.evaluate_exported(model, chosen, **inputs)
        for split, chosen in family.test_splits(rows).items()
    }
    return {
        "family": family.name,
        "splits": list(scores),
        "scores": scores,
        "missed_targets": family.missed_targets(target_metrics(scores)),
    }


def read_record(path: Path) -> dict[str, Any]:
    """A training record written by a train step (a clear error when it is not one)."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a training record ({error})") from None
    missing = [
        key for key in ("family", "model_path", "lake_commit", "scores") if key not in record
    ]
    if missing:
        raise InputError(f"{path}: a training record lacks {', '.join(missing)}")
    return record


def write_json(path: Path, value: Any) -> None:
    """Write ``value`` as JSON to ``path`` (a Kubeflow output path: parents may be missing)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(value, indent=2, sort_keys=True, default=str) + "\n")
