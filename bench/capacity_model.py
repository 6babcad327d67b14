"""The capacity model: measured load steps of the turn API -> the serving HPA's targets.

A pod runs one API worker and requests ``request_cores`` of CPU. The HPA holds each pod at a
fraction ``u`` of that request, by CPU utilisation (``u`` x 100 %) and by turns/s per pod
(``u`` x turns per core x request); the two targets ask for the same pod count when a pod
uses exactly its request.

- **Turns per core**: the lowest turns/s per busy core of the steps that failed at most
  ``max_failure_rate`` of their turns (the 1/2/4-worker steps of ``bench.capacity``); the
  lowest, because a pod shares its node.
- **Utilisation**: p99 grows as ``p99_unloaded / (1 - u)`` (each percentile of an M/M/1
  queue's response time scales so), which keeps p99 under the objective while
  ``u <= 1 - p99_unloaded / objective``; capped at ``max_utilisation`` for the minute a new
  pod takes to load its models while the others carry its share.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One load step: the API with ``workers`` processes under a fixed number of users."""

    workers: int
    turns_per_s: float
    p50_ms: float
    p99_ms: float
    cpu_seconds: float  # the API's process tree over the step
    turns: int  # answered
    failures: int

    @property
    def per_core(self) -> float:
        """Turns answered per CPU second of the API's processes (turns/s per busy core)."""
        return self.turns / self.cpu_seconds if self.cpu_seconds > 0 else 0.0


@dataclass(frozen=True)
class HpaTargets:
    """What the HPA of ``deploy/k8s/base/serving/autoscaling.yaml`` is set to."""

    per_core: float  # turns/s per core the targets rest on
    utilisation: float  # fraction of the pod's CPU request the HPA holds a pod at
    cpu_percent: int  # averageUtilization
    turns_per_pod: int  # averageValue of voiceops_turns_per_second
    p99_at_target_ms: float  # the model's p99 at that utilisation
    bound_by: str  # "latency" or "headroom"

    def pods_for(self, turns_per_s: float) -> int:
        """Pods the HPA asks for at a steady ``turns_per_s``."""
        return max(1, math.ceil(turns_per_s / self.turns_per_pod))


def hpa_targets(
    steps: Sequence[Step],
    unloaded_p99_ms: float,
    *,
    objective_ms: float = 1000.0,
    request_cores: float = 1.0,
    max_utilisation: float = 0.8,
    max_failure_rate: float = 0.01,
) -> HpaTargets:
    """The HPA targets the measured ``steps`` support with p99 under ``objective_ms``.

    ``unloaded_p99_ms`` is the p99 of one caller at a time (no queueing). Raises
    ``ValueError`` when every step failed too many turns or the unloaded p99 alone misses the
    objective (no utilisation keeps p99 under it: the model, not the HPA, must change).
    """
    usable = [
        step
        for step in steps
        if step.per_core > 0 and step.failures <= max_failure_rate * (step.turns + step.failures)
    ]
    if not usable:
        raise ValueError("no load step with few enough failures: nothing to size the HPA on")
    if unloaded_p99_ms >= objective_ms:
        raise ValueError(
            f"p99 of one caller ({unloaded_p99_ms:.0f} ms) already misses the "
            f"{objective_ms:.0f} ms objective"
        )
    per_core = min(step.per_core for step in usable)
    latency_bound = 1 - unloaded_p99_ms / objective_ms
    utilisation = min(latency_bound, max_utilisation)
    # rounded down, to whole percents and turns: a pod is never asked for more than measured
    cpu_percent = math.floor(round(100 * utilisation, 6))
    turns_per_pod = max(1, math.floor(cpu_percent / 100 * per_core * request_cores))
    return HpaTargets(
        per_core=per_core,
        utilisation=cpu_percent / 100,
        cpu_percent=cpu_percent,
        turns_per_pod=turns_per_pod,
        p99_at_target_ms=unloaded_p99_ms / (1 - cpu_percent / 100),
        bound_by="latency" if latency_bound < max_utilisation else "headroom",
    )
