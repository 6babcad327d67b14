"""The VoiceOps Dagster code location: each stage's definitions, merged, with shared resources.

Stages live in ``orchestration/defs/<stage>/`` (lake, ingestion, warehouse, training,
registry, experiments, retraining, monitoring, governance), each with its assets and a
``definitions.py`` returning a small ``Definitions``.
"""

import json

from dagster import Definitions, in_process_executor
from pydantic import SecretStr

from core.settings import Settings
from orchestration.defs.experiments import definitions as experiments
from orchestration.defs.governance import definitions as governance
from orchestration.defs.ingestion import definitions as ingestion
from orchestration.defs.lake import definitions as lake
from orchestration.defs.monitoring import definitions as monitoring
from orchestration.defs.registry import definitions as registry
from orchestration.defs.retraining import definitions as retraining
from orchestration.defs.training import definitions as training
from orchestration.defs.warehouse import definitions as warehouse
from orchestration.resources import build_resources


def build_definitions(settings: Settings | None = None) -> Definitions:
    """The code location for the given settings (read from the environment by default)."""
    settings = settings or Settings()
    resources = build_resources(settings)
    return Definitions.merge(
        lake.defs(settings),
        ingestion.defs(settings, lake=resources["lake"]),
        warehouse.defs(settings),
        training.defs(settings),
        registry.defs(settings),
        experiments.defs(settings),
        retraining.defs(settings),
        monitoring.defs(settings),
        governance.defs(settings),
        Definitions(
            resources=resources,
            # Multiprocess execution re-imports the code location per step (~12 s each here).
            executor=in_process_executor,
        ),
    )


def _settings_key(settings: Settings) -> str:
    values = {
        name: value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        for name, value in settings
    }
    return json.dumps(values, sort_keys=True)


_BUILT: dict[str, Definitions] = {}


def definitions_for(settings: Settings) -> Definitions:
    """The code location for ``settings``, built once per distinct settings (in-process runs)."""
    key = _settings_key(settings)
    if key not in _BUILT:
        _BUILT[key] = build_definitions(settings)
    return _BUILT[key]


#: The code location of the environment's settings (what ``workspace.yaml`` loads); in-process
#: runs with the same settings reuse it.
defs = definitions_for(Settings())
