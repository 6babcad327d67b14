"""``experiments/canary``: after a retraining run's gate, the new versions go to a canary.

For each family registered in the run: a version the gate refused is not served (the trace
says why); the first version to pass became champion at registration; a version that passed
became ``@challenger`` and joins the candidate arm of one canary against the champions
(:func:`experiments.canary.start_canary`). Every version gets the loop's trace: lake commit,
run id, gate verdict, and the canary's key or the decision already taken.
"""

from typing import Any

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.defs.registry.assets import registry_key
from orchestration.resources.lake import LakeResource
from training.families import FAMILIES

CANARY_KEY = AssetKey(["experiments", "canary"])
RETRAINING_GROUP = "retraining"


def _registered_in_run(context: AssetExecutionContext, name: str) -> dict[str, Any] | None:
    """``registry/<name>``'s metadata when this run materialized it, else None."""
    event = context.instance.get_latest_materialization_event(registry_key(name))
    if event is None or event.run_id != context.run_id or event.asset_materialization is None:
        return None
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def _outcome(registered: dict[str, Any]) -> tuple[str, str]:
    """Where the family's new version stands after the gate ("refused", "challenger",
    "champion" or "kept"), and a sentence saying so."""
    version, aliases = str(registered["version"]), dict(registered.get("aliases") or {})
    if registered.get("gate") != "passed":
        return "refused", f"refused by the gate: v{version} is not served"
    if aliases.get("challenger") == version:
        return "challenger", f"passed the gate: v{version} is the challenger"
    if aliases.get("champion") == version:
        return "champion", f"passed the gate: v{version} is the champion"
    return "kept", f"passed the gate: v{version} is neither champion nor challenger"


@asset(
    key=CANARY_KEY,
    group_name=RETRAINING_GROUP,
    kinds={"python"},
    deps=[registry_key(name) for name in FAMILIES],
    description="Starts a canary experiment (experiments/canary.yaml) for the versions this "
    "run registered and the gate made challenger; traces every version's loop steps.",
)
def canary(context: AssetExecutionContext, lake: LakeResource) -> MaterializeResult:
    from experiments.canary import start_canary
    from registry.loop_trace import record
    from registry.tracking import client
    from registry.versions import CHAMPION, aliases

    settings = lake.settings()
    lake_commit = context.run.tags.get("voiceops/lake_commit", "")
    outcomes: dict[str, str] = {}
    candidate: dict[str, int] = {}
    for name in FAMILIES:
        registered = _registered_in_run(context, name)
        if registered is None:
            continue
        version = str(registered["version"])
        standing, outcome = _outcome(registered)
        outcomes[name] = outcome
        record(
            settings,
            name,
            version,
            lake_commit=str(registered.get("lake_commit") or lake_commit),
            run_id=context.run_id,
            gate=str(registered.get("gate")),
        )
        if standing == "challenger":
            candidate[name] = int(version)
        elif standing in ("refused", "champion"):
            record(settings, name, version, decision=outcome)
    metadata: dict[str, Any] = {"outcomes": MetadataValue.json(outcomes)}
    if not candidate:
        context.log.info(f"no canary: {outcomes or 'nothing registered in this run'}")
        return MaterializeResult(metadata=metadata | {"experiment": "none"})
    mlflow = client(settings)
    control = {
        name: int(aliases(mlflow, FAMILIES[name].model_name)[CHAMPION]) for name in candidate
    }
    spec = start_canary(settings, control, candidate)
    for name, version in candidate.items():
        record(settings, name, str(version), experiment=spec.key)
    steps = spec.rollout.steps if spec.rollout else []
    context.log.info(f"canary {spec.key} started: {candidate} against {control}, steps {steps}")
    return MaterializeResult(
        metadata=metadata
        | {
            "experiment": spec.key,
            "control": MetadataValue.json(control),
            "candidate": MetadataValue.json(candidate),
            "rollout_steps": MetadataValue.json(steps),
        }
    )
