"""The retraining loop's trace on a model version: one MLflow tag per step it took.

Each step the loop takes for a version (the publish that triggered it, the Dagster run that
trained it, the gate's verdict, the canary experiment, the decision) is written as a tag
``voiceops.loop.<step>`` on the registered version, so ``voiceops models show`` and the
MLflow UI tell the version's story without the orchestrator's logs.
"""

from __future__ import annotations

from core.settings import Settings
from registry.tracking import client
from training.families import family

TAG_PREFIX = "voiceops.loop."
#: The steps, in the order the loop takes them.
STEPS = ("lake_commit", "run_id", "gate", "experiment", "decision")


def record(settings: Settings, family_name: str, version: str, **steps: str) -> None:
    """Tag ``version`` of ``family_name``'s model with ``steps`` (names from :data:`STEPS`)."""
    unknown = sorted(set(steps) - set(STEPS))
    if unknown:
        raise ValueError(f"unknown loop steps {unknown} (known: {', '.join(STEPS)})")
    mlflow = client(settings)
    model = family(family_name).model_name
    for step, value in steps.items():
        mlflow.set_model_version_tag(model, str(version), TAG_PREFIX + step, value)


def trace(settings: Settings, family_name: str, version: str) -> dict[str, str]:
    """The loop's steps recorded on ``version``, in :data:`STEPS` order."""
    tags = client(settings).get_model_version(family(family_name).model_name, str(version)).tags
    return {step: tags[TAG_PREFIX + step] for step in STEPS if TAG_PREFIX + step in tags}
