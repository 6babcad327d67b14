"""A tuning spec: the validated Katib manifest with its trial command, from a YAML file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import InputError
from training.families import FAMILIES
from tuning.algorithms import check_algorithm
from tuning.spec import (
    ExperimentBody,
    FieldError,
    KatibExperiment,
    parse_experiment,
    read_manifest,
)
from tuning.template import TrialCommand, config_field_types, trial_command


@dataclass(frozen=True)
class TuningSpec:
    """A Katib experiment the local runner can run, and where it came from."""

    experiment: KatibExperiment
    command: TrialCommand
    manifest: dict[str, Any]  # the document as written (rendered for a cluster)
    source: str

    @property
    def name(self) -> str:
        return self.experiment.name

    @property
    def body(self) -> ExperimentBody:
        return self.experiment.spec

    @property
    def family(self) -> str:
        return self.command.family


def family_config_fields() -> dict[str, dict[str, str]]:
    """Family -> its config fields' types (imports each family's config module only)."""
    return {
        name: config_field_types(getattr(family.module("config"), family.config_class_name))
        for name, family in FAMILIES.items()
    }


def parse_tuning_spec(data: Any, source: str) -> TuningSpec:
    """The tuning spec of a YAML document; errors name ``source``, the field and why."""
    experiment = parse_experiment(data, source)
    try:
        check_algorithm(experiment.spec)
        command = trial_command(experiment, family_config_fields())
    except FieldError as error:
        raise InputError(f"{source}: {error.field}: {error}") from None
    return TuningSpec(experiment, command, data, source)


def load_tuning_spec(path: Path) -> TuningSpec:
    """The tuning spec in ``path``."""
    return parse_tuning_spec(read_manifest(path), str(path))
