"""The statistical tests of an experiment analysis, on arrays of per-user values.

- :func:`srm_test`: Pearson's chi-square of users per arm against the configured weights.
- :func:`two_proportion_z`: the two-proportion z-test (pooled variance for the test, unpooled
  for the Wald confidence interval), for metrics that are 0/1 per user.
- :func:`welch_t`: Welch's unequal-variance t-test with the Welch-Satterthwaite degrees of
  freedom, for every other metric.
- :func:`msprt`: the mixture sequential probability ratio test with a normal mixing
  distribution, whose p-value and confidence interval stay valid however often one looks.

Every function returns the difference ``treatment - control``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class SrmResult:
    """Users per arm against the shares the weights promise."""

    counts: dict[str, int]
    expected_shares: dict[str, float]
    chi2: float
    p_value: float

    def describe(self) -> str:
        total = sum(self.counts.values())
        parts = [
            f"{arm} {n} users ({n / total:.2%}, expected {self.expected_shares[arm]:.2%})"
            for arm, n in self.counts.items()
        ]
        return f"{'; '.join(parts)}: chi-square {self.chi2:.2f}, p = {self.p_value:.2g}"


def srm_test(counts: dict[str, int], weights: dict[str, float]) -> SrmResult:
    """Chi-square goodness of fit of ``counts`` (users per arm) to ``weights``.

    An arm of weight 0 that received users is a mismatch (p = 0) whatever the others say.
    """
    total_weight = sum(weights.values())
    shares = {arm: weights[arm] / total_weight for arm in counts}
    total = sum(counts.values())
    if total == 0:
        return SrmResult(dict(counts), shares, 0.0, 1.0)
    if any(shares[arm] == 0 and n > 0 for arm, n in counts.items()):
        return SrmResult(dict(counts), shares, math.inf, 0.0)
    observed = [n for arm, n in counts.items() if shares[arm] > 0]
    expected = [shares[arm] * total for arm in counts if shares[arm] > 0]
    if len(observed) < 2:
        return SrmResult(dict(counts), shares, 0.0, 1.0)
    chi2, p_value = stats.chisquare(observed, expected)
    return SrmResult(dict(counts), shares, float(chi2), float(p_value))


@dataclass(frozen=True)
class TestResult:
    """A comparison of the treatment's per-user mean with the control's."""

    test: str
    control_mean: float
    treatment_mean: float
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    n_control: int
    n_treatment: int

    @property
    def relative_lift(self) -> float:
        """``difference / control_mean`` (NaN when the control's mean is 0)."""
        return self.difference / self.control_mean if self.control_mean else math.nan


def _values(values: Sequence[float] | np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array[~np.isnan(array)]


def is_binary(*samples: Sequence[float] | np.ndarray) -> bool:
    """Whether every value is 0 or 1 (a proportion per user)."""
    return all(np.isin(_values(s), (0.0, 1.0)).all() for s in samples)


def two_proportion_z(
    control: Sequence[float], treatment: Sequence[float], alpha: float = 0.05
) -> TestResult:
    """Two-proportion z-test of 0/1 values; the CI is the unpooled Wald interval."""
    a, b = _values(control), _values(treatment)
    n_a, n_b = len(a), len(b)
    p_a, p_b = a.mean(), b.mean()
    pooled = (a.sum() + b.sum()) / (n_a + n_b)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    difference = p_b - p_a
    if se_pooled > 0:
        p_value = 2 * stats.norm.sf(abs(difference) / se_pooled)
    else:
        p_value = 1.0 if difference == 0 else 0.0
    se = math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
    half = stats.norm.ppf(1 - alpha / 2) * se
    return TestResult(
        "z", p_a, p_b, difference, difference - half, difference + half, p_value, n_a, n_b
    )


def welch_t(
    control: Sequence[float], treatment: Sequence[float], alpha: float = 0.05
) -> TestResult:
    """Welch's t-test; the CI uses the same Welch-Satterthwaite degrees of freedom."""
    a, b = _values(control), _values(treatment)
    n_a, n_b = len(a), len(b)
    v_a, v_b = a.var(ddof=1) / n_a, b.var(ddof=1) / n_b
    difference = b.mean() - a.mean()
    se = math.sqrt(v_a + v_b)
    if se == 0:
        p_value = 1.0 if difference == 0 else 0.0
        return TestResult(
            "welch", a.mean(), b.mean(), difference, difference, difference, p_value, n_a, n_b
        )
    df = (v_a + v_b) ** 2 / (v_a**2 / (n_a - 1) + v_b**2 / (n_b - 1))
    p_value = 2 * stats.t.sf(abs(difference) / se, df)
    half = stats.t.ppf(1 - alpha / 2, df) * se
    return TestResult(
        "welch",
        a.mean(),
        b.mean(),
        difference,
        difference - half,
        difference + half,
        p_value,
        n_a,
        n_b,
    )


def compare(
    control: Sequence[float], treatment: Sequence[float], alpha: float = 0.05
) -> TestResult:
    """The z-test when both samples are 0/1 per user, Welch's t-test otherwise."""
    if is_binary(control, treatment):
        return two_proportion_z(control, treatment, alpha)
    return welch_t(control, treatment, alpha)


@dataclass(frozen=True)
class SequentialResult:
    """An always-valid p-value and confidence interval (a confidence sequence)."""

    p_value: float
    ci_low: float
    ci_high: float
    looks: int


def msprt_log_likelihood_ratio(difference: float, variance: float, tau2: float) -> float:
    """The log of the mixture likelihood ratio of ``H1: theta ~ N(0, tau2)`` against
    ``H0: theta = 0`` for an estimate ``difference ~ N(theta, variance)``."""
    return 0.5 * math.log(variance / (variance + tau2)) + tau2 * difference**2 / (
        2 * variance * (variance + tau2)
    )


def msprt_half_width(variance: float, tau2: float, alpha: float) -> float:
    """Half-width of the ``1 - alpha`` confidence sequence: the ``theta0`` not rejected."""
    return math.sqrt(
        variance
        * (variance + tau2)
        / tau2
        * (2 * math.log(1 / alpha) + math.log((variance + tau2) / variance))
    )


def msprt(
    looks: Sequence[tuple[Sequence[float], Sequence[float]]],
    alpha: float = 0.05,
    tau2: float | None = None,
) -> SequentialResult:
    """Always-valid inference on the difference of means over successive ``looks`` (the
    control and treatment samples as known at each look, cumulative).

    This is the mSPRT of Johari, Koomen, Pekelis and Walsh, "Peeking at A/B tests: why it
    matters, and what to do about it" (KDD 2017) and "Always valid inference" (Operations
    Research 2022), with a normal mixing distribution ``N(0, tau2)`` and the normal
    approximation of the difference of means ``d ~ N(theta, V)``, ``V = s_a^2/n_a +
    s_b^2/n_b``::

        Lambda_n = sqrt(V / (V + tau2)) * exp(tau2 * d^2 / (2 V (V + tau2)))
        p_n      = min(p_{n-1}, 1 / Lambda_n)
        CI_n     = CI_{n-1} intersected with
                   d -+ sqrt(V (V + tau2) / tau2 * (2 log(1/alpha) + log((V + tau2) / V)))

    ``tau2`` defaults to the square of a tenth of the pooled per-user standard deviation at
    the last look (effects of that order are the ones an experiment is sized for).
    """
    p_value, low, high = 1.0, -math.inf, math.inf
    if tau2 is None:
        last = np.concatenate([_values(looks[-1][0]), _values(looks[-1][1])])
        tau2 = (0.1 * last.std(ddof=1)) ** 2 if len(last) > 1 else 0.0
    counted = 0
    for control, treatment in looks:
        a, b = _values(control), _values(treatment)
        if len(a) < 2 or len(b) < 2 or tau2 <= 0:
            continue
        variance = a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)
        if variance <= 0:
            continue
        counted += 1
        difference = b.mean() - a.mean()
        log_ratio = msprt_log_likelihood_ratio(difference, variance, tau2)
        p_value = min(p_value, math.exp(-log_ratio))
        half = msprt_half_width(variance, tau2, alpha)
        low, high = max(low, difference - half), min(high, difference + half)
    return SequentialResult(min(p_value, 1.0), low, high, counted)
