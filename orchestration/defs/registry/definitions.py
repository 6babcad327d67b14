"""Registry stage: register each family's latest model in MLflow, behind the gate."""

from dagster import Definitions

from core.settings import Settings
from orchestration.defs.registry.assets import register_models_job, registry_assets


def defs(settings: Settings) -> Definitions:
    """The registry stage's definitions (one asset per family; the gate is its check)."""
    return Definitions(assets=registry_assets, jobs=[register_models_job])
