"""The analysis of one experiment from its serving events: trust first, then effects.

1. Sample-ratio mismatch: users per arm against the weights (:func:`experiments.stats.srm_test`);
   ``p < 0.001`` means the assignment or the logging is broken and no effect can be trusted:
   :class:`SampleRatioMismatch` stops the analysis.
2. Per-user metrics (:func:`experiments.metrics.per_user`), each of the spec's metrics compared
   control vs every other arm (z-test for 0/1 per user, Welch otherwise), with the difference,
   relative lift, 95 % CI and p-value; with ``sequential: true`` also the always-valid p-value
   and confidence sequence (mSPRT) over ``looks`` successive cohorts of users.
3. Guardrails per arm over its turns: p99 latency, error rate, handoff rate.

The result is an :class:`Analysis` (``to_markdown()`` for the Dagster UI and the CLI);
:mod:`experiments.plots` draws it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from core.errors import VoiceOpsError
from experiments.metrics import METRICS, error_flags, flags, floats, per_user, users_per_arm
from experiments.spec import ExperimentSpec, Guardrails
from experiments.stats import SequentialResult, SrmResult, TestResult, compare, msprt, srm_test

if TYPE_CHECKING:
    import pandas as pd

#: The SRM p-value below which the analysis stops.
SRM_ALPHA = 0.001
ALPHA = 0.05
#: Successive cohorts (by first event) at which the sequential test looks.
LOOKS = 10


class SampleRatioMismatch(VoiceOpsError):
    """Users per arm are too far from the weights for any effect to be trusted."""

    def __init__(self, key: str, srm: SrmResult) -> None:
        super().__init__(
            f"experiment {key}: sample ratio mismatch, analysis stopped ({srm.describe()}): "
            "check the assignment and the event logging before reading any metric"
        )
        self.srm = srm


@dataclass(frozen=True)
class Comparison:
    """One metric, one arm against the control."""

    metric: str
    better: str
    arm: str
    test: TestResult
    sequential: SequentialResult | None = None
    alpha: float = ALPHA

    @property
    def p_value(self) -> float:
        """The p-value a decision uses: always-valid when sequential, else fixed-horizon."""
        return self.sequential.p_value if self.sequential else self.test.p_value

    @property
    def ci(self) -> tuple[float, float]:
        if self.sequential:
            return self.sequential.ci_low, self.sequential.ci_high
        return self.test.ci_low, self.test.ci_high

    def harm_bound(self) -> float:
        """The largest harm the interval admits (worse than the control by this much; <= 0:
        the interval admits no harm at all)."""
        low, high = self.ci
        return -low if self._sign() > 0 else high

    @property
    def significant(self) -> bool:
        return self.p_value < self.alpha

    def _sign(self) -> int:
        return 1 if self.better == "higher" else -1

    @property
    def improved(self) -> bool:
        """Significantly better than the control."""
        return self.significant and self._sign() * self.test.difference > 0

    @property
    def worse(self) -> bool:
        """Worse than the control beyond the CI (the whole interval on the wrong side)."""
        low, high = self.ci
        return (high < 0) if self._sign() > 0 else (low > 0)


@dataclass(frozen=True)
class GuardrailCheck:
    """One arm's value of one guardrail against its limit (NaN: no turns yet, holds)."""

    arm: str
    name: str
    value: float
    limit: float

    @property
    def holds(self) -> bool:
        return math.isnan(self.value) or self.value <= self.limit

    def describe(self) -> str:
        return f"{self.arm} {self.name} {self.value:.4g} > {self.limit:g}"


@dataclass(frozen=True)
class Analysis:
    """Everything the decision and the report need about one experiment."""

    key: str
    control: str
    users: dict[str, int]
    srm: SrmResult
    comparisons: list[Comparison]
    guardrails: list[GuardrailCheck]
    min_sample_size: int
    sequential: bool
    #: metric -> arm -> (per-user mean, CI low, CI high)
    arm_means: dict[str, dict[str, tuple[float, float, float]]] = field(default_factory=dict)
    #: arm -> first-event times of its users, sorted (cumulative users over time)
    first_seen: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def enough_users(self) -> bool:
        return all(n >= self.min_sample_size for n in self.users.values())

    @property
    def broken_guardrails(self) -> list[GuardrailCheck]:
        return [g for g in self.guardrails if not g.holds]

    def comparison(self, metric: str, arm: str) -> Comparison:
        return next(c for c in self.comparisons if c.metric == metric and c.arm == arm)

    def summary(self) -> str:
        """One line: users per arm and each arm's primary-metric effect."""
        users = ", ".join(f"{arm} {n}" for arm, n in self.users.items())
        effects = [
            f"{c.arm} {c.metric} {c.test.difference:+.4g} ({_ci(c)}, p {c.p_value:.3g}"
            f"{' always-valid' if c.sequential else ''})"
            for c in self.comparisons
            if c.metric == self.comparisons[0].metric
        ]
        return f"users: {users}; " + "; ".join(effects)

    def to_markdown(self) -> str:
        lines = [
            f"### Experiment `{self.key}`",
            "",
            "| arm | users | share | expected |",
            "|---|---:|---:|---:|",
        ]
        total = sum(self.users.values()) or 1
        for arm, n in self.users.items():
            expected = self.srm.expected_shares.get(arm, math.nan)
            lines.append(f"| {arm} | {n} | {n / total:.2%} | {expected:.2%} |")
        lines += [
            "",
            f"Sample ratio: chi-square {self.srm.chi2:.2f}, p = {self.srm.p_value:.3g} "
            f"(mismatch below {SRM_ALPHA}). Minimum {self.min_sample_size} users per arm: "
            f"{'reached' if self.enough_users else 'not reached'}.",
            "",
            "| metric | arm | control | arm | difference | lift | 95 % CI | p | test |",
            "|---|---|---:|---:|---:|---:|---|---:|---|",
        ]
        for c in self.comparisons:
            test = c.test.test + (" + mSPRT" if c.sequential else "")
            lines.append(
                f"| {c.metric} ({c.better}) | {c.arm} | {c.test.control_mean:.4g} | "
                f"{c.test.treatment_mean:.4g} | {c.test.difference:+.4g} | "
                f"{c.test.relative_lift:+.2%} | {_ci(c)} | {c.p_value:.3g} | {test} |"
            )
        lines += ["", "| guardrail | arm | value | limit | holds |", "|---|---|---:|---:|---|"]
        for g in self.guardrails:
            lines.append(
                f"| {g.name} | {g.arm} | {g.value:.4g} | {g.limit:g} | "
                f"{'yes' if g.holds else '**no**'} |"
            )
        return "\n".join(lines)


def _ci(comparison: Comparison) -> str:
    low, high = comparison.ci
    return f"[{low:+.4g}, {high:+.4g}]"


def guardrail_checks(
    events: pd.DataFrame, guardrails: Guardrails, arms: list[str]
) -> list[GuardrailCheck]:
    """Each arm's p99 turn latency, error rate and handoff rate over its turns."""
    turns = events[(events["kind"] == "turn") & events["arm"].notna()]
    checks = []
    for arm in arms:
        own = turns[turns["arm"] == arm]
        n = len(own)
        latencies = floats(own["latency_ms"])
        latencies = latencies[~np.isnan(latencies)]
        latency = float(np.quantile(latencies, 0.99)) if len(latencies) else math.nan
        errors = error_flags(own["error"]).sum()
        checks += [
            GuardrailCheck(arm, "latency_p99_ms", latency, guardrails.latency_p99_ms),
            GuardrailCheck(arm, "error_rate", errors / n if n else math.nan, guardrails.error_rate),
            GuardrailCheck(
                arm,
                "handoff_rate",
                float(flags(own["handoff"]).mean()) if n else math.nan,
                guardrails.handoff_rate,
            ),
        ]
    return checks


def _mean_ci(values: np.ndarray, alpha: float) -> tuple[float, float, float]:
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return (math.nan, math.nan, math.nan)
    mean = float(values.mean())
    if len(values) < 2:
        return (mean, mean, mean)
    from scipy import stats

    half = stats.t.ppf(1 - alpha / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return (mean, mean - half, mean + half)


def analyze(
    spec: ExperimentSpec,
    events: pd.DataFrame,
    *,
    weights: dict[str, float] | None = None,
    alpha: float = ALPHA,
    looks: int = LOOKS,
) -> Analysis:
    """The analysis of ``events`` (of any experiments: those of ``spec.key`` are used) under
    ``weights`` (default: the spec's). Raises :class:`SampleRatioMismatch`."""
    own = events[events["experiment"] == spec.key]
    own = own[own["arm"].isin(spec.arm_names)]
    users = per_user(own)
    counts = users_per_arm(users, spec.arm_names)
    srm = srm_test(counts, weights or dict(spec.weights))
    if srm.p_value < SRM_ALPHA:
        raise SampleRatioMismatch(spec.key, srm)
    control = spec.control
    comparisons, arm_means = [], {}
    for metric in spec.metrics:
        column = METRICS[metric.name].name
        by_arm = {
            arm: users.loc[users["arm"] == arm, column].to_numpy(dtype=float)
            for arm in spec.arm_names
        }
        arm_means[metric.name] = {arm: _mean_ci(v, alpha) for arm, v in by_arm.items()}
        for arm in spec.arm_names[1:]:
            a, b = by_arm[control], by_arm[arm]
            if np.isfinite(a).sum() < 2 or np.isfinite(b).sum() < 2:
                continue
            sequential = None
            if spec.sequential:
                sequential = msprt(
                    _looks(users, column, control, arm, looks), alpha, tau2=spec.mixing_tau2()
                )
            comparisons.append(
                Comparison(metric.name, metric.better, arm, compare(a, b, alpha), sequential, alpha)
            )
    first_seen = {
        arm: sorted(users.loc[users["arm"] == arm, "first_seen"].dropna()) for arm in spec.arm_names
    }
    return Analysis(
        key=spec.key,
        control=control,
        users=counts,
        srm=srm,
        comparisons=comparisons,
        guardrails=guardrail_checks(own, spec.guardrails, spec.arm_names),
        min_sample_size=spec.min_sample_size,
        sequential=spec.sequential,
        arm_means=arm_means,
        first_seen=first_seen,
    )


def _looks(
    users: pd.DataFrame, column: str, control: str, arm: str, looks: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The control and arm values of the users seen by each of ``looks`` evenly spaced
    points of the users' arrival order (cumulative cohorts)."""
    ordered = users[users["arm"].isin([control, arm])].sort_values(["first_seen", "user_id"])
    cuts = sorted({max(1, round(len(ordered) * k / looks)) for k in range(1, looks + 1)})
    cohorts = []
    for cut in cuts:
        head = ordered.iloc[:cut]
        cohorts.append(
            (
                head.loc[head["arm"] == control, column].to_numpy(dtype=float),
                head.loc[head["arm"] == arm, column].to_numpy(dtype=float),
            )
        )
    return cohorts
