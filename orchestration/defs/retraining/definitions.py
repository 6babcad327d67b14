"""Retraining stage: a publish retrains what it changed (a drift too, on newer data), the
gate and a canary decide."""

from dagster import Definitions

from core.settings import Settings
from orchestration.defs.retraining.canary import canary
from orchestration.defs.retraining.drift import retrain_on_drift_sensor
from orchestration.defs.retraining.jobs import retrain_job
from orchestration.defs.retraining.review import canary_review_job, canary_review_sensor
from orchestration.defs.retraining.sensors import retrain_on_publish_sensor


def defs(settings: Settings) -> Definitions:
    """The retraining loop's definitions (the same in every mode)."""
    return Definitions(
        assets=[canary],
        jobs=[retrain_job, canary_review_job],
        sensors=[retrain_on_publish_sensor, retrain_on_drift_sensor, canary_review_sensor],
    )
