"""``retrain_job``: train, register + gate, and canary the families a publish changed."""

from collections.abc import Iterable
from typing import Any

from dagster import define_asset_job

from orchestration.defs.registry.assets import registry_key
from orchestration.defs.retraining.canary import CANARY_KEY
from orchestration.defs.training.assets import model_key
from training.families import FAMILIES

retrain_job = define_asset_job(
    "retrain_job",
    selection=[
        *(model_key(name) for name in FAMILIES),
        *(registry_key(name) for name in FAMILIES),
        CANARY_KEY,
    ],
    description="Retrain the families whose data changed (the retraining sensor selects "
    "them), register and gate the new versions, and start their canary.",
)


def retrain_run_config(families: Iterable[str], size: str) -> dict[str, Any]:
    """Run config training ``families`` at preset ``size``."""
    return {"ops": {f"models__{name}": {"config": {"size": size}} for name in families}}
