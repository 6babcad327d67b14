"""Canaries the platform starts by itself for retrained versions (the retraining loop).

A template (``experiments/canary.yaml``, or the file ``VOICEOPS_CANARY_TEMPLATE`` names)
holds what every such canary shares: rollout steps, metrics, guardrails, sample size and how
many days it may run. :func:`start_canary` fills in the arms (control: the families'
champions, candidate: the new versions), writes the spec to the generated specs directory
(``<home>/experiments/specs``, read by the serving API's router beside the reviewed specs)
and starts it. The key names the versions, so asking twice for the same canary is one canary.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from core.errors import InputError
from core.settings import Settings
from experiments.spec import ExperimentSpec, generated_specs_dir, load_spec, parse_spec
from experiments.state import StateStore

TEMPLATE = Path(__file__).resolve().parent / "canary.yaml"
#: Fields the template must set (the arms, key and dates are filled in here).
TEMPLATE_FIELDS = {"rollout", "days", "metrics", "guardrails", "min_sample_size"}
CONTROL, CANDIDATE = "control", "candidate"


def load_template(settings: Settings) -> dict[str, Any]:
    """The canary template of ``settings`` (a clear error naming the file and field)."""
    path = Path(settings.canary_template or TEMPLATE)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise InputError(f"{path}: (template): cannot read: {error}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: (template): must be a mapping")
    missing = sorted(TEMPLATE_FIELDS - set(data))
    unknown = sorted(set(data) - TEMPLATE_FIELDS - {"sequential"})
    if missing or unknown:
        problems = [f"{name}: required" for name in missing]
        problems += [f"{name}: unknown field (the loop sets it)" for name in unknown]
        raise InputError(f"{path}: {'; '.join(problems)}")
    if not isinstance(data["days"], int) or data["days"] < 1:
        raise InputError(f"{path}: days: must be a whole number of days >= 1")
    return data


def canary_key(candidate: dict[str, int]) -> str:
    """``canary-<family>-v<version>-...`` for the candidate's versions, families sorted."""
    return "canary-" + "-".join(f"{name}-v{candidate[name]}" for name in sorted(candidate))


def canary_spec(
    template: dict[str, Any],
    control: dict[str, int],
    candidate: dict[str, int],
    today: datetime,
    source: str = "canary template",
) -> ExperimentSpec:
    """The canary of ``candidate`` against ``control`` from ``template``, from ``today``."""
    fields = {k: v for k, v in template.items() if k != "days"}
    data = fields | {
        "key": canary_key(candidate),
        "arms": {CONTROL: dict(control), CANDIDATE: dict(candidate)},
        "start": today.date(),
        "stop": today.date() + timedelta(days=int(template["days"])),
    }
    spec = parse_spec(data, source)
    if spec.rollout is None:
        raise InputError(f"{source}: rollout: a canary needs rollout steps")
    return spec


def write_spec(spec: ExperimentSpec, directory: Path) -> Path:
    """``directory/<key>.yaml`` with ``spec`` (dates as ISO strings)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{spec.key}.yaml"
    data = spec.model_dump(mode="json", exclude_defaults=True)
    data["key"] = spec.key
    path.write_text(
        "# Written by the retraining loop (experiments/canary.py); not reviewed by hand.\n"
        + yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    load_spec(path)  # what was written reads back as the same valid spec
    return path


def start_canary(
    settings: Settings,
    control: dict[str, int],
    candidate: dict[str, int],
    *,
    now: datetime | None = None,
) -> ExperimentSpec:
    """Write and start the canary of ``candidate`` (idempotent: a canary already running or
    decided for the same versions is returned as it is)."""
    if set(control) != set(candidate) or not candidate:
        raise InputError(
            f"a canary compares the same families: control {sorted(control)}, "
            f"candidate {sorted(candidate)}"
        )
    now = now or datetime.now(UTC)
    template = load_template(settings)
    source = str(settings.canary_template or TEMPLATE)
    spec = canary_spec(template, control, candidate, now, source)
    store = StateStore(settings)
    path = generated_specs_dir(settings) / f"{spec.key}.yaml"
    if path.exists() and store.get(spec.key).status != "draft":
        return load_spec(path)
    write_spec(spec, path.parent)
    store.start(spec.key, now)
    return spec
