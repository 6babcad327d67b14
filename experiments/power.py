"""How many users per arm an experiment needs: the sample size of a two-proportion test.

For a baseline rate ``p1``, a minimal detectable effect ``mde`` (absolute, ``p2 = p1 + mde``),
a two-sided level ``alpha`` and a power ``1 - beta`` (Fleiss, Levin and Paik, *Statistical
Methods for Rates and Proportions*, 3rd ed., eq. 4.14, without continuity correction)::

    n = (z_{1-alpha/2} sqrt(2 p (1 - p)) + z_{1-beta} sqrt(p1 (1 - p1) + p2 (1 - p2)))^2 / mde^2

with ``p = (p1 + p2) / 2``. A spec's ``min_sample_size`` is this number for its primary
metric (``voiceops experiments power --baseline 0.8 --mde 0.02``).

A canary that must show no harm larger than a margin ``m`` (non-inferiority) is sized by
:func:`calls_to_show_within`: the users per arm at which, when the arms are equal, the
interval of the difference excludes a harm of ``m`` with probability ``power``; with the
always-valid (mSPRT) interval the canaries use, whose mixing scale is ``m``
(``voiceops experiments power --baseline 0.6 --margin 0.15``).
"""

from __future__ import annotations

import math

from scipy import stats

from core.errors import InputError
from experiments.stats import msprt_half_width

#: The largest sample size :func:`calls_to_show_within` searches.
MAX_USERS = 10_000_000


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


def calls_to_show_within(
    baseline: float,
    margin: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    sequential: bool = True,
) -> int:
    """Users per arm (one binary outcome each) at which equal arms show, with probability
    ``power``, that the candidate is within ``margin`` of the control: the interval's harm
    bound ``-d + h(n)`` stays below ``margin`` for the difference ``d ~ N(0, V)``, ``h`` the
    half-width (always-valid with mixing scale ``margin`` when ``sequential``)."""
    if not 0 < baseline < 1:
        raise InputError(f"baseline: {baseline} must be a rate in (0, 1)")
    if not 0 < margin < 1:
        raise InputError(f"margin: {margin} must be in (0, 1)")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise InputError(f"alpha {alpha} and power {power} must be in (0, 1)")
    variance_one = 2 * baseline * (1 - baseline)
    z_power = stats.norm.ppf(power)
    z_alpha = stats.norm.ppf(1 - alpha / 2)

    def shown(n: int) -> bool:
        variance = variance_one / n
        half = (
            msprt_half_width(variance, margin**2, alpha)
            if sequential
            else z_alpha * math.sqrt(variance)
        )
        return margin - half >= z_power * math.sqrt(variance)

    low, high = 2, 2
    while not shown(high):
        low, high = high, high * 2
        if high > MAX_USERS:
            raise InputError(f"margin: {margin} needs more than {MAX_USERS} users per arm")
    while low < high:
        middle = (low + high) // 2
        low, high = (middle + 1, high) if not shown(middle) else (low, middle)
    return high
