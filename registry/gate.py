"""The gate: four rules a version must pass to become ``challenger``.

1. ``lineage``    its lake commit is a verified publish of data whose strict audit passed
                  every check, built into marts by the same dbt project (``registry.lineage``);
2. ``thresholds`` its test metrics meet the floors/ceilings of ``thresholds.yaml``, per language;
3. ``champion``   it is not worse than the champion on the same test rows;
4. ``smoke``      its artifact, as stored in the registry, loads in a fresh process, answers
                  reference inputs plausibly and within the latency budget.

Every rule runs (no short cut), so a refusal lists every reason at once. Rules 2-4 judge
quality, which a person may overrule (``promote --force --reason``); rule 1 is the data
guarantee, which nothing overrules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from registry.policy import FamilyPolicy, Policy
from registry.smoke import smoke_test

Scores = dict[str, dict[str, float]]  # language -> metric -> value


LINEAGE = "lineage"


@dataclass
class RuleResult:
    rule: str
    passed: bool
    reason: str
    #: a quality rule (``promote --force`` may overrule it); the lineage rule is not
    overridable: bool = True


@dataclass
class Verdict:
    """The gate's answer; ``passed`` only when every rule passed."""

    rules: list[RuleResult] = field(default_factory=list)
    champion_scores: Scores | None = None
    smoke: dict[str, Any] | None = None

    @property
    def passed(self) -> bool:
        return bool(self.rules) and all(r.passed for r in self.rules)

    @property
    def reasons(self) -> list[str]:
        return [f"{r.rule}: {r.reason}" for r in self.rules if not r.passed]

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "rules": [asdict(r) for r in self.rules]}


def rule_lineage(lineage: dict[str, Any]) -> RuleResult:
    """Rule 1 on the lake lineage verified at registration (``registry.lineage``)."""
    if not lineage.get("verified"):
        problems = "; ".join(lineage.get("problems") or ["not verified"])
        return RuleResult(LINEAGE, False, problems, overridable=False)
    return RuleResult(
        LINEAGE,
        True,
        f"publish of audited commit {lineage['audited_commit'][:12]}: all "
        f"{len(lineage['checks_passed'])} checks passed, dbt project "
        f"{lineage['dbt_manifest_hash'][:12]}",
        overridable=False,
    )


def rule_thresholds(scores: Scores, policy: FamilyPolicy) -> RuleResult:
    """Rule 2: every floor (``minimum``) and ceiling (``maximum``) per language."""
    problems, checked = [], 0
    for bound, limits in (("minimum", policy.minimum), ("maximum", policy.maximum)):
        for language, metrics in limits.items():
            for metric, limit in metrics.items():
                checked += 1
                value = scores.get(language, {}).get(metric)
                if value is None:
                    problems.append(f"{metric}[{language}] missing")
                elif (value < limit) if bound == "minimum" else (value > limit):
                    sign = "<" if bound == "minimum" else ">"
                    problems.append(f"{metric}[{language}]={value:.4f} {sign} {limit:g}")
    if problems:
        return RuleResult("thresholds", False, "; ".join(problems))
    return RuleResult("thresholds", True, f"{checked} thresholds met")


def regressions(new: Scores, champion: Scores, policy: FamilyPolicy) -> list[str]:
    """Metrics (per language both have) where ``new`` is worse than ``champion`` + tolerance."""
    worse = []
    for language in sorted(set(new) & set(champion)):
        for metric in policy.metrics:
            a, b = new[language].get(metric), champion[language].get(metric)
            if a is None or b is None:
                continue
            delta = (a - b) if policy.lower_is_better(metric) else (b - a)
            if delta > policy.tolerance:
                worse.append(f"{metric}[{language}] {a:.4f} vs champion {b:.4f}")
    return worse


def rule_champion(
    scores: Scores, champion: Scores | None, champion_version: str | None, policy: FamilyPolicy
) -> RuleResult:
    """Rule 3: no regression beyond ``tolerance`` against the champion's scores."""
    if champion_version is None or champion is None:
        return RuleResult("champion", True, "no champion yet")
    worse = regressions(scores, champion, policy)
    if worse:
        return RuleResult(
            "champion",
            False,
            f"regresses against champion v{champion_version} beyond {policy.tolerance:g}: "
            + "; ".join(worse),
        )
    return RuleResult("champion", True, f"no regression against champion v{champion_version}")


def rule_smoke(family: str, model_dir: Path, policy: Policy) -> tuple[RuleResult, dict]:
    """Rule 4: the fresh-process smoke test against the family's latency budget."""
    result = smoke_test(
        family,
        model_dir,
        policy.family(family).latency_budget_ms,
        repeats=policy.smoke_repeats,
        timeout_s=policy.smoke_timeout_s,
        limits=policy.smoke_limits,
    )
    return RuleResult("smoke", result.ok, result.reason), result.to_dict()


def evaluate_gate(
    family: str,
    model_dir: Path,
    scores: Scores,
    lineage: dict[str, Any],
    policy: Policy,
    champion: tuple[str, Callable[[], Scores]] | None,
) -> Verdict:
    """All four rules; ``champion`` is (version, how to get its scores on our test split)."""
    family_policy = policy.family(family)
    verdict = Verdict()
    verdict.rules.append(rule_lineage(lineage))
    verdict.rules.append(rule_thresholds(scores, family_policy))
    if champion is None:
        verdict.rules.append(rule_champion(scores, None, None, family_policy))
    else:
        try:
            verdict.champion_scores = champion[1]()
        except Exception as error:  # an unreadable champion must not let a version through
            reason = f"could not score champion v{champion[0]}: {type(error).__name__}: {error}"
            verdict.rules.append(RuleResult("champion", False, reason[:500]))
        else:
            verdict.rules.append(
                rule_champion(scores, verdict.champion_scores, champion[0], family_policy)
            )
    smoke, verdict.smoke = rule_smoke(family, model_dir, policy)
    verdict.rules.append(smoke)
    return verdict
