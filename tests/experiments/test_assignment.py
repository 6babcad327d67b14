"""Properties of the assignment: stable, salt-independent, coverage-monotone, weighted,
namespace-exclusive."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from experiments.assignment import Assigner, assign
from experiments.spec import load_specs
from tests.experiments.test_growthbook_vectors import make_spec

ROOT = Path(__file__).resolve().parents[2]
USERS = [f"caller-{i}" for i in range(1000)]


def test_example_spec_assigns_registry_versions() -> None:
    spec = load_specs()["nlu-canary"]
    placed = [a for a in map(Assigner(spec).assign, USERS) if a.arm is not None]
    assert placed, "10 % coverage of half a namespace places some of 1,000 users"
    for assignment in placed:
        assert assignment.experiment == "nlu-canary"
        assert dict(assignment.versions) == spec.arms[assignment.arm]
    outside = next(a for a in map(Assigner(spec).assign, USERS) if a.arm is None)
    assert dict(outside.versions) == {}
    assert assign(spec, "").arm is None


def test_stable_across_processes() -> None:
    spec = make_spec(arms=3, coverage=0.8)
    here = [Assigner(spec).assign(u).arm for u in USERS]
    code = (
        "import json, sys\n"
        "from experiments.assignment import Assigner\n"
        "from tests.experiments.test_growthbook_vectors import make_spec\n"
        "a = Assigner(make_spec(arms=3, coverage=0.8))\n"
        "print(json.dumps([a.assign(f'caller-{i}').arm for i in range(1000)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )
    assert json.loads(done.stdout) == here


def test_salts_independent() -> None:
    """Two salts: different assignments, and arm pairs near the product of the marginals."""
    first, second = Assigner(make_spec(salt="s1")), Assigner(make_spec(salt="s2"))
    pairs = Counter((first.assign(u).arm, second.assign(u).arm) for u in USERS)
    assert sum(pairs[(a, b)] for a, b in pairs if a != b) > 0
    for a in ("a0", "a1"):
        for b in ("a0", "a1"):
            # expected 250 per cell; 4 sigma of a binomial(1000, 0.25) is about 55
            assert abs(pairs[(a, b)] - 250) < 55, pairs


def test_raising_coverage_keeps_assigned_users() -> None:
    weights = {"a0": 0.2, "a1": 0.3, "a2": 0.5}
    before = Assigner(make_spec(arms=3, weights=weights, coverage=0.1))
    after = Assigner(make_spec(arms=3, weights=weights, coverage=0.6))
    users = [f"caller-{i}" for i in range(5000)]
    assigned = {u: before.assign(u).arm for u in users if before.assign(u).arm}
    assert len(assigned) > 300
    assert all(after.assign(u).arm == arm for u, arm in assigned.items())
    assert sum(after.assign(u).arm is not None for u in users) > 4 * len(assigned)


def test_weights_respected() -> None:
    weights = {"a0": 0.5, "a1": 0.3, "a2": 0.2}
    assigner = Assigner(make_spec(arms=3, weights=weights))
    counts = Counter(assigner.assign(f"user-{i}").arm for i in range(20_000))
    assert None not in counts
    for arm, weight in weights.items():
        assert abs(counts[arm] / 20_000 - weight) < 0.015, counts


def test_namespaces_exclusive() -> None:
    left = Assigner(make_spec(key="left", namespace={"id": "nlu", "start": 0.0, "end": 0.5}))
    right = Assigner(make_spec(key="right", namespace={"id": "nlu", "start": 0.5, "end": 1.0}))
    users = [f"user-{i}" for i in range(5000)]
    in_left = {u for u in users if left.assign(u).arm}
    in_right = {u for u in users if right.assign(u).arm}
    assert not in_left & in_right
    assert in_left | in_right == set(users)
    assert 2000 < len(in_left) < 3000
