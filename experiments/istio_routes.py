"""Istio weights of a serving canary, rendered from a rollout schedule (never hand-copied).

A rollout (``rollout: {steps: [0.05, 0.25, 0.5, 1.0], ...}`` of the canary template
``experiments/canary.yaml`` or of an experiment spec) gives the candidate's share at each
stage; at stage ``i`` the Istio ``VirtualService`` sends ``steps[i]`` of the requests to the
``canary`` subset and the rest to ``stable``, in whole percents that sum to 100 (Istio's
weights are integers). The shares are those :meth:`ExperimentSpec.weights_at` gives the
in-process router, so a serving release and a model canary move on the same schedule.

The Istio split is per request: it suits a new serving release (image). A model canary stays
in-process (:mod:`experiments.routing`), where a user keeps their arm on every replica.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from core.errors import InputError
from experiments.spec import SPECS_DIR, Rollout, SpecsDirs, load_specs, parse_spec

STABLE, CANARY = "stable", "canary"
#: Annotations on the rendered VirtualService naming what it was rendered from.
SOURCE_ANNOTATION = "voiceops.dev/canary-source"
STAGE_ANNOTATION = "voiceops.dev/canary-stage"


def load_rollout(source: str, specs_dir: SpecsDirs = SPECS_DIR) -> Rollout:
    """The rollout of ``source``: a YAML file (a canary template or an experiment spec) or
    the key of an experiment spec in ``specs_dir``."""
    path = Path(source)
    if not path.suffix:
        spec = load_specs(specs_dir).get(source)
        if spec is None:
            raise InputError(f"{source}: no such experiment spec (nor a .yaml file)")
        if spec.rollout is None:
            raise InputError(f"{source}: rollout: the experiment has no rollout steps")
        return spec.rollout
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise InputError(f"{path}: cannot read: {error}") from None
    if not isinstance(data, dict) or "rollout" not in data:
        raise InputError(f"{path}: rollout: required")
    if "arms" in data:
        rollout = parse_spec(data, str(path)).rollout
        if rollout is None:
            raise InputError(f"{path}: rollout: the experiment has no rollout steps")
        return rollout
    try:
        return Rollout.model_validate(data["rollout"])
    except ValidationError as error:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise InputError(f"{path}: rollout: {reasons}") from None


def route_weights(rollout: Rollout, stage: int) -> dict[str, int]:
    """``{"stable": %, "canary": %}`` at ``stage``: whole percents summing to 100. A share
    that whole percents cannot express without dropping an arm (0.4 %, 99.6 %) is refused."""
    steps = rollout.steps
    if not 0 <= stage < len(steps):
        raise InputError(f"stage {stage}: the rollout has stages 0..{len(steps) - 1}")
    share = steps[stage]
    canary = round(share * 100)
    if canary == 0 or (canary == 100 and share < 1):
        raise InputError(
            f"stage {stage}: a share of {share:.2%} is not a whole percent "
            "(Istio weights are integers)"
        )
    return {STABLE: 100 - canary, CANARY: canary}


def http_routes(rollout: Rollout, stage: int, host: str, port: int) -> list[dict[str, Any]]:
    """The ``spec.http`` of the VirtualService at ``stage``: one route, two weighted subsets."""
    weights = route_weights(rollout, stage)
    return [
        {
            "name": "serving",
            "route": [
                {
                    "destination": {"host": host, "subset": subset, "port": {"number": port}},
                    "weight": weight,
                }
                for subset, weight in weights.items()
            ],
        }
    ]


def virtual_service(
    rollout: Rollout, stage: int, *, source: str, name: str, host: str, port: int
) -> dict[str, Any]:
    """The VirtualService (``networking.istio.io/v1``) of ``rollout`` at ``stage``, annotated
    with ``source`` (where the rollout was read) and the stage: a kustomize patch, or a whole
    object."""
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {
            "name": name,
            "annotations": {SOURCE_ANNOTATION: source, STAGE_ANNOTATION: str(stage)},
        },
        "spec": {"hosts": [host], "http": http_routes(rollout, stage, host, port)},
    }
