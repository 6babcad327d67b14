"""Training stage: one model per family on the published marts, with its targets as checks."""

from dagster import Definitions

from core.settings import Settings
from orchestration.defs.training.assets import train_models_job, training_assets, training_checks
from orchestration.defs.training.duplicates import nlu_duplicates_check


def defs(settings: Settings) -> Definitions:
    """The training stage's definitions (one asset and one check per family, and the NLU's
    near-duplicate check)."""
    return Definitions(
        assets=training_assets,
        asset_checks=[*training_checks, nlu_duplicates_check],
        jobs=[train_models_job],
    )
