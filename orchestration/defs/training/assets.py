"""Training assets: one model per family, trained on its published mart at a lake commit.

A family is retrained only when its mart's rows (content hash), the training config or the
family's code changed (the three make the asset's data version); otherwise the last model is
kept and the materialization says so. Evaluation targets are asset checks.

Every family package ``training/<family>/`` has the same shape, so one factory builds
every asset: ``config.<FAMILY>Config.tiny()|demo()``, ``data.load_rows(settings, commit)``
and ``train.run(rows, config, run_dir) -> RunSummary``.
"""

from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Config,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
    define_asset_job,
)
from pydantic import Field

from orchestration.defs.warehouse.assets import PUBLISHED_KEY, mart_key
from orchestration.resources.lake import LakeResource
from training.common.data import StaleDataError, published_build
from training.common.figures import asset_figures_markdown
from training.common.lineage import fingerprint, rows_hash, split_counts
from training.common.run import RunSummary
from training.common.scores import target_metrics
from training.families import FAMILIES, Family

TRAINING_GROUP = "training"
MODEL_KEY_ROOT = "models"


def model_key(family: str) -> AssetKey:
    """The asset key of ``family``'s trained model (``models/<family>``)."""
    return AssetKey([MODEL_KEY_ROOT, family])


class TrainingConfig(Config):
    size: str = Field(
        default="demo",
        description="'demo' (minutes), 'tiny' (seconds, tests) or 'large' (STT and TTS: tens "
        "of minutes); another size is refused naming the family's presets.",
    )
    init_from: str = Field(
        default="",
        description="STT: a registered version (number or @alias) whose weights training "
        "starts from; its version and run id are recorded in the config (lineage).",
    )


def _with_parent(family: Family, family_config: Any, settings: Any, ref: str) -> tuple:
    """The config naming the parent version and run, and ``{"init_model": path}`` for the
    family's ``run`` (``training.steps.with_parent``)."""
    from registry.parents import resolve_parent
    from training.steps import with_parent

    return with_parent(family, family_config, resolve_parent(settings, family.name, ref).to_dict())


def _latest_entries(instance: Any, key: AssetKey) -> dict[str, MetadataValue] | None:
    """The latest materialization's metadata entries (typed), or None."""
    event = instance.get_latest_materialization_event(key)
    if event is None or event.asset_materialization is None:
        return None
    return dict(event.asset_materialization.metadata)


def latest_metadata(instance: Any, key: AssetKey) -> dict[str, Any] | None:
    """The latest materialization's metadata as plain values, or None."""
    entries = _latest_entries(instance, key)
    return None if entries is None else {k: v.value for k, v in entries.items()}


def _kept(
    previous: dict[str, MetadataValue], print_: str, commit: str, mart_fingerprint: str
) -> MaterializeResult:
    """The previous materialization again (same model, entries of the same types: figures
    stay Markdown), noting the commit checked now and its mart's fingerprint."""
    metadata = previous | {
        "retrained": MetadataValue.bool(False),
        "checked_lake_commit": MetadataValue.text(commit),
        "mart_fingerprint": MetadataValue.text(mart_fingerprint),
    }
    return MaterializeResult(metadata=metadata, data_version=DataVersion(print_))


def _metadata(family: Family, summary: RunSummary, rows: list[dict], config: Any) -> dict:
    """The metadata contract the registry reads (``registry.training_info``)."""
    # "test" -> intent_accuracy_all; a test subset "test_<subset>" -> <subset>_intent_accuracy_all
    flat = target_metrics(summary.scores)
    return {
        "model_path": str(summary.model_path),
        "run_dir": str(summary.model_path.parent),
        "config": MetadataValue.json(config.to_dict()),
        "data_rows": MetadataValue.json(split_counts(rows)),
        "scores": MetadataValue.json(summary.scores),
        "train_seconds": round(summary.seconds, 1),
        "epochs": summary.epochs,
        "params": summary.params,
        "history": MetadataValue.json(summary.history),
        **{k: float(v) for k, v in summary.extra.items()},
        **{name: MetadataValue.md(text) for name, text in summary.tables.items()},
        **flat,
    }


def _published_marts(settings: Any, main_head: str) -> tuple[str, str]:
    """The lake commit and dbt manifest hash of the published marts, which must be a
    successful build of ``main``'s head (else a clear error: nothing is trained)."""
    try:
        build = published_build(settings)
    except StaleDataError as error:
        raise ValueError(f"the published marts cannot be trained on: {error}") from None
    if build is None:
        raise ValueError("nothing published yet: run audit_publish_job first")
    if build.lake_commit != main_head:
        raise ValueError(
            f"the published marts are a build of lake commit {build.lake_commit[:12]}, but "
            f"main is at {main_head[:12]}: run audit_publish_job to rebuild them first"
        )
    return build.lake_commit, build.manifest_hash


def _used_models(instance: Any, family: Family) -> dict[str, dict[str, Any]]:
    """Latest metadata of each model ``family`` uses; a clear error when one is missing."""
    used = {}
    for name in family.uses_models:
        metadata = latest_metadata(instance, model_key(name))
        if not metadata or not Path(str(metadata.get("model_path", ""))).is_dir():
            raise ValueError(
                f"{family.name} is scored with the {name} model, which is not trained yet: "
                f"materialize models/{name} first"
            )
        used[name] = metadata
    return used


def build_training_asset(family: Family) -> AssetsDefinition:
    """The asset training ``family`` on the published data (kept when nothing changed)."""

    @asset(
        key=model_key(family.name),
        group_name=TRAINING_GROUP,
        kinds={"tensorflow"},
        deps=[
            mart_key(family.mart),
            PUBLISHED_KEY,
            *(model_key(used) for used in family.uses_models),
        ],
        code_version=family.code,
        description=family.description,
    )
    def _train(
        context: AssetExecutionContext, config: TrainingConfig, lake: LakeResource
    ) -> MaterializeResult:
        settings = lake.settings()
        commit, manifest = _published_marts(settings, lake.head())
        rows = family.load_rows(settings, commit)
        if not any(row.get("split") == "train" for row in rows):
            raise ValueError(
                f"{family.mart} has no train rows at lake commit {commit}: nothing to train "
                f"{family.name} on (were recordings ingested?)"
            )
        family_config, start = family.config(config.size), {}
        if config.init_from:
            family_config, start = _with_parent(family, family_config, settings, config.init_from)
        data_hash = rows_hash(rows)
        used = _used_models(context.instance, family)
        code = ":".join([family.code, *(meta["fingerprint"] for meta in used.values())])
        print_ = fingerprint(data_hash, family_config.config_hash(), code)
        previous = _latest_entries(context.instance, model_key(family.name))
        if previous is not None and getattr(previous.get("fingerprint"), "value", None) == print_:
            context.log.info(f"{family.name}: data, config and code unchanged, not retrained")
            return _kept(previous, print_, commit, family.data_fingerprint(settings, commit))
        run_dir = settings.home / "models" / family.name / print_
        paths = {f"{name}_model": Path(meta["model_path"]) for name, meta in used.items()}
        summary = family.run(rows, family_config, run_dir, **paths, **start)
        lineage = {
            "lake_commit": commit,
            "lake_repository": settings.lake_repository,
            "marts_manifest_hash": manifest,
            "data_hash": data_hash,
            "mart_fingerprint": family.data_fingerprint(settings, commit),
            "config_hash": family_config.config_hash(),
            "code_version": family.code,
            "fingerprint": print_,
            "retrained": True,
            **{f"{name}_model_fingerprint": meta["fingerprint"] for name, meta in used.items()},
            **{f"{name}_model_path": str(meta["model_path"]) for name, meta in used.items()},
        }
        figures = asset_figures_markdown(summary, family.name, test_rows=rows)
        return MaterializeResult(
            metadata=lineage
            | _metadata(family, summary, rows, family_config)
            | {"figures": MetadataValue.md(figures)},
            data_version=DataVersion(print_),
        )

    return _train


def _meets(instance: Any, family: Family) -> AssetCheckResult:
    """Pass when the latest materialization reached every target (WARN otherwise)."""
    missed = family.missed_targets(latest_metadata(instance, model_key(family.name)) or {})
    return AssetCheckResult(
        passed=not missed,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "targets": MetadataValue.json(
                {name: f"{op} {goal}" for name, (op, goal) in family.targets.items()}
            ),
            "missed_targets": MetadataValue.json(
                {name: value for name, value in missed.items() if value is not None}
            ),
            "missing": MetadataValue.json(
                [name for name, value in missed.items() if value is None]
            ),
        },
    )


def build_targets_check(family: Family) -> AssetChecksDefinition:
    """Asset check: the family's test-split metrics reach its training targets."""

    @asset_check(
        asset=model_key(family.name),
        name="meets_targets",
        description=f"{family.name} test-split metrics reach their targets.",
    )
    def _check(context) -> AssetCheckResult:
        return _meets(context.instance, family)

    return _check


training_assets = [build_training_asset(f) for f in FAMILIES.values()]
training_checks = [build_targets_check(f) for f in FAMILIES.values()]
train_models_job = define_asset_job(
    "train_models_job",
    selection=[model_key(f.name) for f in FAMILIES.values()],
    description="Train (or keep, when nothing changed) every model family on the published data.",
)
