"""Registry assets: a ``registry/<family>`` step after each training asset ``models/<family>``.

It registers the latest trained model in MLflow (run + version with lineage), runs the gate,
and reports the verdict as the asset check ``gate``. A model that was kept (not retrained)
is not registered again: its version is found by fingerprint.
"""

from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
    define_asset_job,
)

from core.settings import redact_url
from orchestration.defs.retries import SERVER_RETRY_POLICY, refusals_fail_at_once
from orchestration.defs.training.assets import model_key
from orchestration.resources.lake import LakeResource
from training.families import FAMILIES

REGISTRY_GROUP = "registry"


def registry_key(family: str) -> AssetKey:
    return AssetKey(["registry", family])


def _training_metadata(context: AssetExecutionContext, family: str) -> dict[str, Any]:
    event = context.instance.get_latest_materialization_event(model_key(family))
    if event is None or event.asset_materialization is None:
        raise ValueError(f"models/{family} has never been materialized: train it first")
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def build_registry_asset(family: str) -> AssetsDefinition:
    """``registry/<family>``: register + gate the latest ``models/<family>``."""
    key = registry_key(family)

    @asset(
        key=key,
        group_name=REGISTRY_GROUP,
        kinds={"mlflow"},
        deps=[model_key(family)],
        check_specs=[
            AssetCheckSpec(
                "gate",
                asset=key,
                description="The registry gate: audit checks, thresholds, no regression "
                "against the champion, fresh-process smoke test within the latency budget.",
            )
        ],
        description=f"voicebot-{family} in the MLflow model registry, with lineage and gate.",
        retry_policy=SERVER_RETRY_POLICY,
    )
    def _register(context: AssetExecutionContext, lake: LakeResource) -> MaterializeResult:
        from registry.register import register
        from registry.training_info import TrainingInfo

        settings = lake.settings()
        info = TrainingInfo.from_metadata(_training_metadata(context, family), context.run_id)
        with refusals_fail_at_once():
            done = register(family, info, settings=settings, lake=lake.get_lake())
        rules = {
            r.rule: f"{'ok' if r.passed else 'REFUSED'}: {r.reason}" for r in done.verdict.rules
        }
        return MaterializeResult(
            metadata={
                "model": done.model,
                "version": done.version,
                "mlflow_run_id": done.run_id,
                "model_uri": MetadataValue.url(f"models:/{done.model}/{done.version}"),
                "artifact_uri": done.source,
                "tracking_uri": redact_url(settings.tracking_uri),
                "gate": "passed" if done.verdict.passed else "refused",
                "aliases": MetadataValue.json(done.aliases),
                "lake_commit": info.lake_commit,
            },
            check_results=[
                AssetCheckResult(
                    check_name="gate",
                    passed=done.verdict.passed,
                    severity=AssetCheckSeverity.ERROR,
                    metadata={"version": done.version, "rules": MetadataValue.json(rules)},
                )
            ],
        )

    return _register


registry_assets = [build_registry_asset(name) for name in FAMILIES]
register_models_job = define_asset_job(
    "register_models_job",
    selection=[registry_key(name) for name in FAMILIES],
    description="Register every family's latest model in MLflow and run the registry gate.",
)
