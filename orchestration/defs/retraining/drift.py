"""``retrain_on_drift_sensor``: a drift report whose checks failed retrains the drifted
families, but only on data newer than their champion's.

Retraining on the lake commit a champion was trained on gives the same model back (training
is seeded): it cannot fix a drift. So a drifted family is retrained only when the published
marts are a build of another commit than its champion's; otherwise the drift stays an alert
(``VoiceOpsDataDrift``) until new data is published. The same holds when the family's latest
model was already trained on the published data (its fingerprint, as the publish sensor
compares it) and did not become champion. The run key is the published commit and
the families, so the same drift on the same data asks once.
"""

import json

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from orchestration.defs.monitoring.drift import DRIFT_KEY, DRIFTED_METADATA
from orchestration.defs.retraining.jobs import retrain_job
from orchestration.defs.retraining.selection import RetrainPlan, with_followers
from orchestration.defs.retraining.sensors import retrain_request, trained_fingerprints
from orchestration.resources.lake import LakeResource
from training.families import FAMILIES

#: Run tag saying why a retraining run was requested.
TRIGGER_TAG = "voiceops/trigger"


def drifted_champions(context: SensorEvaluationContext) -> tuple[str, dict[str, str]] | None:
    """``(cursor, {family: champion lake commit})`` of the newest drift materialization, or
    None before the first. The materialization's ``drifted`` metadata is what its failed
    checks report (both come from one report)."""
    records = context.instance.fetch_materializations(DRIFT_KEY, limit=1).records
    if not records or records[0].asset_materialization is None:
        return None
    entry = records[0].asset_materialization.metadata.get(DRIFTED_METADATA)
    return str(records[0].storage_id), json.loads(entry.value) if entry is not None else {}


def drift_request(
    drifted: dict[str, str],
    published: str,
    size: str,
    trained_on_published: frozenset[str] = frozenset(),
) -> tuple[RunRequest | None, str]:
    """The retraining run for the ``drifted`` families whose champion was trained on another
    commit than ``published`` and whose latest model was not trained on the published data
    (``trained_on_published``: e.g. a version the gate refused), plus the families using
    their models; with what was decided."""
    stale = {
        name
        for name, commit in drifted.items()
        if commit != published and name not in trained_on_published
    }
    same = sorted(set(drifted) - stale)
    kept = (
        f"; {', '.join(same)} already trained on {published[:12]}'s data: retraining on the "
        "same data would not fix the drift (alert only)"
        if same
        else ""
    )
    if not stale:
        return None, f"drifted: {', '.join(same)}, no newer published data{kept}"
    families = with_followers(stale)
    plan = RetrainPlan(published, {}, tuple(sorted(stale)), families)
    request = retrain_request(plan, size)
    request = request.with_replaced_attrs(
        run_key=f"drift-{published}-{'-'.join(families)}",
        tags={**request.tags, TRIGGER_TAG: "drift"},
    )
    return request, f"drifted: {', '.join(sorted(stale))}: retrain {', '.join(families)}{kept}"


@sensor(
    name="retrain_on_drift_sensor",
    job=retrain_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
    description="When a monitoring/drift materialization finds drifted families, requests "
    "one retrain_job run for those whose champion was trained on another lake commit than "
    "the published one and whose latest model did not train on the published data; a "
    "family already trained on it is left to the alert.",
)
def retrain_on_drift_sensor(
    context: SensorEvaluationContext, lake: LakeResource
) -> SensorResult | SkipReason:
    from training.common.data import StaleDataError, published_commit

    found = drifted_champions(context)
    if found is None:
        return SkipReason("no drift report yet (materialize monitoring/drift)")
    cursor, drifted = found
    if cursor == context.cursor:
        return SkipReason("no new drift report")
    if not drifted:
        return SensorResult(skip_reason="the latest drift report found no drift", cursor=cursor)
    settings = lake.settings()
    try:
        published = published_commit(settings)
    except StaleDataError as err:
        return SkipReason(f"the published marts are not usable yet: {err}")
    if published is None:
        return SensorResult(skip_reason="nothing published yet", cursor=cursor)
    current = {name: FAMILIES[name].data_fingerprint(settings, published) for name in drifted}
    trained = trained_fingerprints(context.instance)
    already = frozenset(name for name in drifted if trained.get(name) == current[name])
    request, decision = drift_request(drifted, published, settings.training_size, already)
    context.log.info(decision)
    if request is None:
        return SensorResult(skip_reason=decision, cursor=cursor)
    return SensorResult(run_requests=[request], cursor=cursor)
