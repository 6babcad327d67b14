"""How many users per arm an experiment needs: the sample size of a two-proportion test.

For a baseline rate ``p1``, a minimal detectable effect ``mde`` (absolute, ``p2 = p1 + mde``),
a two-sided level ``alpha`` and a power ``1 - beta`` (Fleiss, Levin and Paik, *Statistical
Methods for Rates and Proportions*, 3rd ed., eq. 4.14, without continuity correction)::

    n = (z_{1-alpha/2} sqrt(2 p (1 - p)) + z_{1-beta} sqrt(p1 (1 - p1) + p2 (1 - p2)))^2 / mde^2

with ``p = (p1 + p2) / 2``. A spec's ``min_sample_size`` is this number for its primary
metric (``voiceops experiments power --baseline 0.8 --mde 0.02``).
"""

from __future__ import annotations

import math

from scipy import stats

from core.errors import InputError


def sample_size_per_arm(
    baseline: float, mde: float, *, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Users per arm to detect ``baseline -> baseline + mde`` (``mde`` may be negative)."""
    if not 0 < baseline < 1:
        raise InputError(f"baseline: {baseline} must be a rate in (0, 1)")
    if mde == 0 or not 0 < baseline + mde < 1:
        raise InputError(f"mde: {mde} must be non-zero and keep the rate in (0, 1)")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise InputError(f"alpha {alpha} and power {power} must be in (0, 1)")
    p1, p2 = baseline, baseline + mde
    mean = (p1 + p2) / 2
    z_alpha = stats.norm.ppf(1 - alpha / 2)
    z_beta = stats.norm.ppf(power)
    root = z_alpha * math.sqrt(2 * mean * (1 - mean)) + z_beta * math.sqrt(
        p1 * (1 - p1) + p2 * (1 - p2)
    )
    return math.ceil(root**2 / mde**2)
