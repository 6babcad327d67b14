"""The canaries the loop started are reviewed as their traffic arrives.

``canary_review_sensor`` watches the experiment event store: when events arrived since its
last look (or a canary reached its stop date), it requests one ``canary_review_job`` run per
running loop canary, unless one is still in flight. The run advances the rollout, and at the
last stage decides: promotion, rollback or expiry (:mod:`experiments.canary_review`).
"""

import json
from datetime import UTC, datetime

from dagster import (
    Config,
    DagsterRunStatus,
    DefaultSensorStatus,
    MetadataValue,
    OpExecutionContext,
    Output,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    job,
    op,
    sensor,
)
from pydantic import Field

from core.settings import Settings
from orchestration.resources.lake import LakeResource

IN_FLIGHT = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTED]


class ReviewConfig(Config):
    key: str = Field(description="The canary experiment's key.")


@op(description="Advance, decide or roll back one canary of the retraining loop.")
def review_canary_op(context: OpExecutionContext, config: ReviewConfig, lake: LakeResource):
    from experiments.canary_review import review_canary

    review = review_canary(lake.settings(), config.key)
    context.log.info(review.describe())
    yield Output(
        review.action,
        metadata={
            "experiment": config.key,
            "action": review.action,
            "stage": review.stage,
            "reason": MetadataValue.text(review.reason),
            "promotions": MetadataValue.json(review.promotions),
        },
    )


@job(description="Review one canary the retraining loop started (config: its key).")
def canary_review_job():
    review_canary_op()


def loop_canaries(settings: Settings) -> list[str]:
    """Keys of the running canaries the loop started (its generated specs), in key order."""
    from experiments.spec import generated_specs_dir
    from experiments.state import StateStore

    generated = {path.stem for path in generated_specs_dir(settings).glob("*.yaml")}
    states = StateStore(settings).all()
    return sorted(key for key in generated if key in states and states[key].status == "running")


def _event_count(settings: Settings) -> int:
    from experiments.event_store import EventStore

    with EventStore.from_settings(settings) as store:
        return store.count()


@sensor(
    name="canary_review_sensor",
    job=canary_review_job,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.STOPPED,
    description="Requests a canary_review_job run per running loop canary when new serving "
    "events arrived (or a day passed); the cursor is the event count and the day.",
)
def canary_review_sensor(
    context: SensorEvaluationContext, lake: LakeResource
) -> SensorResult | SkipReason:
    settings = lake.settings()
    keys = loop_canaries(settings)
    if not keys:
        return SkipReason("no canary of the retraining loop is running")
    in_flight = context.instance.get_runs(
        filters=RunsFilter(job_name=canary_review_job.name, statuses=IN_FLIGHT), limit=1
    )
    if in_flight:
        return SkipReason(f"a review is still running ({in_flight[0].run_id[:8]})")
    seen = {"events": _event_count(settings), "day": datetime.now(UTC).date().isoformat()}
    cursor = json.dumps(seen, sort_keys=True)
    if cursor == context.cursor:
        return SkipReason(f"no new events since the last review ({seen['events']} in all)")
    requests = [
        RunRequest(
            run_key=f"{key}@{seen['events']}@{seen['day']}",
            run_config={"ops": {"review_canary_op": {"config": {"key": key}}}},
            tags={"voiceops/experiment": key},
        )
        for key in keys
    ]
    return SensorResult(run_requests=requests, cursor=cursor)
