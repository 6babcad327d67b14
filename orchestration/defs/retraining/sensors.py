"""The retraining sensor: a publish merge into the lake's ``main`` retrains exactly the
families whose training data it changed.

Why a sensor and not declarative automation (``AutomationCondition.eager()`` on the model
assets): eager conditions fire when an upstream asset materializes, and the marts
materialize in every audit run, refused ones included, and on every publish whether or not a
family's rows changed. The decision here needs three things a condition cannot express: the
commit's metadata (only ``voiceops.kind=publish`` merges count), the published marts being a
build of that commit, and each family's data fingerprint against its latest model's.
"""

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from orchestration.defs.registry.assets import registry_key
from orchestration.defs.retraining.jobs import CANARY_KEY, retrain_job, retrain_run_config
from orchestration.defs.retraining.selection import RetrainPlan, plan
from orchestration.defs.training.assets import model_key
from orchestration.resources.lake import LakeResource
from training.families import FAMILIES
from versioning.lake import NotFoundError
from warehouse.guard import KIND, PUBLISH

#: Run tag carrying the lake commit a sensor-triggered run was requested for.
LAKE_COMMIT_TAG = "voiceops/lake_commit"
#: Run tag listing the families a retraining run trains (comma-separated).
FAMILIES_TAG = "voiceops/families"


def trained_fingerprints(instance: object) -> dict[str, str | None]:
    """Each family's data fingerprint as its latest model recorded it (None: no model)."""
    found: dict[str, str | None] = {}
    for name in FAMILIES:
        event = instance.get_latest_materialization_event(model_key(name))  # type: ignore[attr-defined]
        entry = None
        if event is not None and event.asset_materialization is not None:
            entry = event.asset_materialization.metadata.get("mart_fingerprint")
        found[name] = None if entry is None else str(entry.value)
    return found


def retrain_request(retrain: RetrainPlan, size: str) -> RunRequest:
    """The run training (and registering, and canarying) ``retrain``'s families."""
    selection = [
        *(model_key(name) for name in retrain.families),
        *(registry_key(name) for name in retrain.families),
        CANARY_KEY,
    ]
    return RunRequest(
        run_key=f"retrain-{retrain.commit}",
        asset_selection=selection,
        run_config=retrain_run_config(retrain.families, size),
        tags={LAKE_COMMIT_TAG: retrain.commit, FAMILIES_TAG: ",".join(retrain.families)},
    )


@sensor(
    name="retrain_on_publish_sensor",
    job=retrain_job,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.STOPPED,
    description="When a publish merge lands on the lake's main and the published marts are "
    "built from it, requests one retrain_job run for the families whose data fingerprint "
    "changed (and those using their models); the cursor is the last main head handled.",
)
def retrain_on_publish_sensor(
    context: SensorEvaluationContext, lake: LakeResource
) -> SensorResult | SkipReason:
    """One retraining run per publish that changed some family's training data."""
    from training.common.data import StaleDataError, published_build

    repository = lake.repository_name
    try:
        head = lake.head(repository)
        commit = lake.get_lake().get_commit(repository, head)
    except NotFoundError as err:
        return SkipReason(f"lake repository {repository!r} not found: {err}")
    if head == context.cursor:
        return SkipReason(f"{repository}: main still at {head[:12]}")
    if commit.metadata.get(KIND) != PUBLISH:
        return SensorResult(
            skip_reason=f"{repository}: main at {head[:12]} is not a publish merge",
            cursor=head,
        )
    settings = lake.settings()
    try:
        build = published_build(settings)
    except StaleDataError as err:
        return SkipReason(f"publish {head[:12]}: the published marts are not usable yet: {err}")
    if build is None or build.lake_commit != head:
        # The publish job rebuilds them right after the merge: look again next time.
        return SkipReason(f"publish {head[:12]}: waiting for the published marts to be built")
    current = {name: family.data_fingerprint(settings, head) for name, family in FAMILIES.items()}
    retrain = plan(head, current, trained_fingerprints(context.instance))
    context.log.info(retrain.describe())
    if not retrain.families:
        return SensorResult(skip_reason=retrain.describe(), cursor=head)
    return SensorResult(
        run_requests=[retrain_request(retrain, settings.training_size)], cursor=head
    )
