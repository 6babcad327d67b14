"""GrowthBook's published SDK test vectors, reproduced through ``experiments.assignment``.

``growthbook_cases.json`` holds the ``hash``, ``getBucketRange``, ``chooseVariation`` and
``inNamespace`` sections of ``tests/cases.json`` from github.com/growthbook/growthbook-python
at commit c444b7df05dadb097018755c9f71ca356570a9fa (specVersion 0.7.1), unchanged.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from growthbook import Experiment, GrowthBook

from core.errors import InputError
from experiments.assignment import Assigner, bucket_ranges, chooseVariation, user_hash
from experiments.spec import ExperimentSpec, parse_spec

CASES = json.loads((Path(__file__).parent / "growthbook_cases.json").read_text())


def make_spec(**overrides: Any) -> ExperimentSpec:
    """A valid spec with ``overrides`` applied; arms ``a0..a<n-1>`` of NLU versions."""
    arms = overrides.pop("arms", 2)
    data: dict[str, Any] = {
        "key": "vectors",
        "arms": {f"a{i}": {"nlu": i + 1} for i in range(arms)},
        "start": date(2026, 1, 1),
        "stop": date(2026, 2, 1),
        "metrics": [{"name": "resolution_rate", "better": "higher"}],
        "guardrails": {"latency_p99_ms": 800, "error_rate": 0.01, "handoff_rate": 0.2},
        "min_sample_size": 100,
    }
    data.update(overrides)
    return parse_spec(data, "test")


@pytest.mark.parametrize(("seed", "value", "version", "expected"), CASES["hash"])
def test_hash(seed: str, value: str, version: int, expected: float | None) -> None:
    if expected is None:
        with pytest.raises(ValueError, match="hash version"):
            user_hash(seed, value, version)
    else:
        assert user_hash(seed, value, version) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("seed", "value", "version", "expected"), [case for case in CASES["hash"] if case[2] == 2]
)
def test_assignment_hash_value(seed: str, value: str, version: int, expected: float) -> None:
    """The assignment reports the version-2 hash of the spec's salt and the user id."""
    assert Assigner(make_spec(salt=seed)).assign(value).hash_value == pytest.approx(expected)


@pytest.mark.parametrize(("name", "args", "expected"), CASES["getBucketRange"])
def test_bucket_ranges(name: str, args: list[Any], expected: list[list[float]]) -> None:
    """Each case's ranges come out of a spec, or the spec refuses its invalid parameters."""
    count, coverage, weights = args
    overrides: dict[str, Any] = {"arms": count, "coverage": coverage}
    if weights is not None:
        overrides["weights"] = {f"a{i}": w for i, w in enumerate(weights)}
    valid = 0 <= coverage <= 1 and (
        weights is None or (len(weights) == count and abs(sum(weights) - 1) < 1e-6)
    )
    if not valid:
        with pytest.raises(InputError, match=r"coverage|weights"):
            make_spec(**overrides)
        return
    got = bucket_ranges(make_spec(**overrides))
    assert [list(r) for r in got] == [pytest.approx(r) for r in expected], name


@pytest.mark.parametrize(("name", "n", "ranges", "expected"), CASES["chooseVariation"])
def test_choose_variation(name: str, n: float, ranges: list[list[float]], expected: int) -> None:
    assert chooseVariation(n, [tuple(r) for r in ranges]) == expected, name


@pytest.mark.parametrize(("name", "user", "namespace", "expected"), CASES["inNamespace"])
def test_in_namespace(name: str, user: str, namespace: list[Any], expected: bool) -> None:
    """With full coverage, a user is in the experiment exactly when in its namespace slice."""
    ns_id, start, end = namespace
    spec = make_spec(namespace={"id": ns_id, "start": start, "end": end})
    assert (Assigner(spec).assign(user).arm is not None) == expected, name


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"coverage": 0.3, "weights": {"a0": 0.2, "a1": 0.8}},
        {"arms": 3, "salt": "other-salt", "namespace": {"id": "nlu", "start": 0.2, "end": 0.7}},
    ],
)
def test_matches_growthbook_run(overrides: dict[str, Any]) -> None:
    """Same arm as the GrowthBook SDK's own ``run`` of the equivalent experiment."""
    spec = make_spec(**overrides)
    experiment = Experiment(
        key=spec.key,
        variations=spec.arm_names,
        weights=[spec.weights[a] for a in spec.arm_names],
        coverage=spec.coverage,
        namespace=spec.namespace.as_tuple() if spec.namespace else None,
        seed=spec.salt,
        hashVersion=2,
    )
    assigner = Assigner(spec)
    in_experiment = 0
    for i in range(500):
        user = f"user-{i}"
        result = GrowthBook(attributes={"id": user}).run(experiment)
        ours = assigner.assign(user)
        assert ours.arm == (result.value if result.inExperiment else None), user
        in_experiment += ours.arm is not None
    assert in_experiment > 50
