"""Governance stage: the nightly retention of personal data."""

from dagster import Definitions

from core.settings import Settings
from orchestration.defs.governance.retention import retention_job, retention_schedule


def defs(settings: Settings) -> Definitions:
    """The governance stage's definitions."""
    return Definitions(jobs=[retention_job], schedules=[retention_schedule])
