"""The best trial as a config change for review: ``training/<family>/tuned/<experiment>.yaml``
and its diff against the preset.

Nothing reads these files: a tuned config reaches training only when someone applies it, by
editing the family's preset or with the ``--set`` values the file lists.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from optuna.trial import FrozenTrial

from training.families import family as get_family
from tuning.load import TuningSpec


@dataclass(frozen=True)
class Proposal:
    path: Path
    diff: str
    overrides: dict[str, Any]


def tuned_path(family: str, experiment: str, tuned_dir: Path | None = None) -> Path:
    """``training/<family>/tuned/<experiment>.yaml`` (or under ``tuned_dir``)."""
    directory = tuned_dir if tuned_dir is not None else get_family(family).code_dir / "tuned"
    return Path(directory) / f"{experiment}.yaml"


def preset_diff(spec: TuningSpec, preset: Any, tuned: Any, fields: list[str]) -> str:
    """A unified diff of the tuned fields, preset -> tuned."""
    before = [f"{field}: {getattr(preset, field)!r}\n" for field in fields]
    after = [f"{field}: {getattr(tuned, field)!r}\n" for field in fields]
    label = f"training/{spec.family}/config.py ({spec.command.size} preset)"
    return "".join(
        difflib.unified_diff(before, after, label, f"tuned/{spec.name}.yaml", n=len(fields))
    )


def write_proposal(
    spec: TuningSpec,
    config_class: Any,
    best: FrozenTrial,
    commit: str | None,
    tuned_dir: Path | None = None,
) -> Proposal:
    """Write the best trial's config change and return it with its diff."""
    sets = list(best.user_attrs.get("sets", []))
    preset = config_class.preset(spec.command.size, [])
    tuned = config_class.preset(spec.command.size, sets)
    fields = [item.partition("=")[0] for item in sets]
    overrides = {field: getattr(tuned, field) for field in fields}
    objective = spec.body.objective
    document = {
        "family": spec.family,
        "preset": spec.command.size,
        "experiment": spec.name,
        "source": spec.source,
        "trial": best.number,
        "objective": {
            "metric": objective.objectiveMetricName,
            "type": objective.type,
            "value": best.value,
        },
        "metrics": best.user_attrs.get("metrics", {}),
        "lake_commit": commit,
        "mlflow_run_id": best.user_attrs.get("mlflow_run_id"),
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
        "overrides": {k: list(v) if isinstance(v, tuple) else v for k, v in overrides.items()},
        "apply_with": [f"--set {item}" for item in sets],
    }
    path = tuned_path(spec.family, spec.name, tuned_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        f"# Proposed by `voiceops tune {spec.source}`: a config change for review. Training\n"
        f"# never reads this file; apply it by editing training/{spec.family}/config.py or\n"
        "# with the --set values below.\n"
    )
    path.write_text(header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return Proposal(path, preset_diff(spec, preset, tuned, fields), overrides)
