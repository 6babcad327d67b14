"""Which arm an experiment's evidence favours: the rules a decision and a canary's rollout
share (:func:`winner`):

1. every arm has at least ``min_sample_size`` users;
2. every arm's guardrails hold;
3. a winner: an arm that beats the control on the primary (first) metric significantly
   (p < 0.05, always-valid when the spec is ``sequential``) and is not worse than the control
   on any other metric beyond its CI. Several winners: the largest primary improvement. A
   canary that only has to do no harm (``promote_when: holds``) wins when no metric is
   significantly worse, and with a non-inferiority margin when every metric's interval
   excludes a harm that large.
"""

from __future__ import annotations

from experiments.analysis import Analysis, Comparison
from experiments.spec import ExperimentSpec


def winner(spec: ExperimentSpec, analysis: Analysis) -> tuple[str | None, str]:
    """The winning arm (None when none) and why, from an analysis (the rules above)."""
    if not analysis.enough_users:
        short = [f"{a} {n}" for a, n in analysis.users.items() if n < spec.min_sample_size]
        return None, f"not enough users ({', '.join(short)} < {spec.min_sample_size} per arm)"
    if broken := analysis.broken_guardrails:
        return None, "guardrail broken: " + "; ".join(g.describe() for g in broken)
    if spec.rollout is not None and spec.rollout.promote_when == "holds":
        return _holds(spec, analysis)
    primary = spec.metrics[0].name
    candidates: list[Comparison] = []
    reasons = []
    for arm in spec.arm_names[1:]:
        main = analysis.comparison(primary, arm)
        if not main.improved:
            reasons.append(
                f"{arm} does not beat {spec.control} on {primary} "
                f"(difference {main.test.difference:+.4g}, p {main.p_value:.3g})"
            )
            continue
        worse = [c.metric for c in analysis.comparisons if c.arm == arm and c.worse]
        if worse:
            reasons.append(f"{arm} beats {spec.control} on {primary} but is worse on {worse}")
            continue
        candidates.append(main)
    if not candidates:
        return None, "; ".join(reasons)
    sign = 1 if spec.metrics[0].better == "higher" else -1
    best = max(candidates, key=lambda c: sign * c.test.difference)
    return best.arm, (
        f"{best.arm} beats {spec.control} on {primary}: {best.test.difference:+.4g} "
        f"({best.test.relative_lift:+.2%}, CI [{best.ci[0]:+.4g}, {best.ci[1]:+.4g}], "
        f"p {best.p_value:.3g}{' always-valid' if best.sequential else ''})"
    )


def _holds(spec: ExperimentSpec, analysis: Analysis) -> tuple[str | None, str]:
    """A "holds" canary's candidate wins when no metric is significantly worse than the
    control's, and, with a non-inferiority margin, when every metric's interval excludes a
    harm that large (its guardrails and sample size were checked before)."""
    candidate = spec.arm_names[1]
    worse = [c for c in analysis.comparisons if c.arm == candidate and c.worse]
    if worse:
        listed = ", ".join(
            f"{c.metric} {c.test.difference:+.4g} (p {c.p_value:.3g})" for c in worse
        )
        return None, f"{candidate} is worse than {spec.control}: {listed}"
    margin = spec.rollout.non_inferiority_margin if spec.rollout else None
    if margin is not None:
        shown = {c.metric: c for c in analysis.comparisons if c.arm == candidate}
        unshown = [
            f"{m.name} (interval admits {shown[m.name].harm_bound():.4g} worse)"
            if m.name in shown
            else f"{m.name} (no comparison yet)"
            for m in spec.metrics
            if m.name not in shown or shown[m.name].harm_bound() >= margin
        ]
        if unshown:
            return None, (
                f"{candidate} is not shown to be within {margin:g} of {spec.control} on "
                + ", ".join(unshown)
            )
        return candidate, (
            f"{candidate} holds against {spec.control}: guardrails hold and every metric is "
            f"shown within {margin:g} of the control"
        )
    return candidate, (
        f"{candidate} holds against {spec.control}: guardrails hold and no metric is "
        "significantly worse"
    )
