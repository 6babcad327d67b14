"""Monitoring stage: failed runs recorded where monitoring reads them."""

from dagster import Definitions

from core.settings import Settings
from orchestration.defs.monitoring.failures import record_run_failure


def defs(settings: Settings) -> Definitions:
    """The monitoring stage's definitions."""
    return Definitions(sensors=[record_run_failure])
