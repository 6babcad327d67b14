"""Deterministic, GrowthBook-compatible assignment of a user to an experiment arm.

The hashing, bucket ranges, variation choice and namespace test are the GrowthBook Python
SDK's own functions (``growthbook.core``), with hash version 2
(``fnv32a(str(fnv32a(salt + user_id))) % 10000 / 10000``), so a user lands in the same arm
here as in a GrowthBook experiment with the same key/seed, weights, coverage and namespace.
Each arm's range starts at its cumulative weight and covers ``coverage`` of its share, so
raising coverage only adds users: nobody already in an arm moves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from growthbook.core import chooseVariation, gbhash, getBucketRanges, inNamespace

__all__ = ["Assigner", "Assignment", "assign", "bucket_ranges", "chooseVariation", "user_hash"]

from experiments.spec import ExperimentSpec

HASH_VERSION = 2


@dataclass(frozen=True)
class Assignment:
    """Where one user is in one experiment; ``arm`` is None when not in the experiment."""

    experiment: str
    arm: str | None
    #: the user's hash in ``[0, 1)`` for this experiment's salt
    hash_value: float
    #: the arm's ``{family: registry version}``; empty when not in the experiment
    versions: Mapping[str, int] = field(default_factory=dict)


class Assigner:
    """Assigns users to the arms of one spec (bucket ranges computed once)."""

    def __init__(self, spec: ExperimentSpec) -> None:
        self.spec = spec
        self.arm_names = spec.arm_names
        self.ranges = bucket_ranges(spec)
        self._namespace = spec.namespace.as_tuple() if spec.namespace else None
        self._versions = [MappingProxyType(dict(spec.arms[arm])) for arm in self.arm_names]

    def assign(self, user_id: str) -> Assignment:
        """The arm of ``user_id`` (an empty id is never in an experiment)."""
        n = user_hash(self.spec.salt, user_id)
        if not user_id or (self._namespace and not inNamespace(user_id, self._namespace)):
            return Assignment(self.spec.key, None, n)
        index = chooseVariation(n, self.ranges)
        if index < 0:
            return Assignment(self.spec.key, None, n)
        return Assignment(self.spec.key, self.arm_names[index], n, self._versions[index])


def user_hash(salt: str, user_id: str, version: int = HASH_VERSION) -> float:
    """GrowthBook's hash of ``salt`` + ``user_id`` in ``[0, 1)`` (versions 1 and 2)."""
    n = gbhash(salt, user_id, version)
    if n is None:
        raise ValueError(f"unknown GrowthBook hash version {version}")
    return n


def bucket_ranges(spec: ExperimentSpec) -> list[tuple[float, float]]:
    """GrowthBook's bucket ranges for the spec's arms, weights and coverage."""
    weights = [spec.weights[arm] for arm in spec.arm_names]
    return getBucketRanges(len(weights), spec.coverage, weights)


def assign(spec: ExperimentSpec, user_id: str) -> Assignment:
    """The arm of ``user_id`` in ``spec`` (use :class:`Assigner` for many users)."""
    return Assigner(spec).assign(user_id)
