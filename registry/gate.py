"""The gate: four rules a version must pass to become ``challenger``.

1. ``lineage``    its lake commit is a verified publish of data whose strict audit passed
                  every check, built into marts by the same dbt project (``registry.lineage``);
                  an imported version's stored files hash to the SHA-256 recorded at import,
                  with a declared source and licence (``registry.external``);
2. ``thresholds`` its test metrics meet the floors/ceilings of ``thresholds.yaml``, per language;
3. ``champion``   it is not significantly worse than the champion on the same test rows
                  (a paired bootstrap per metric and language, ``registry.champion``);
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
    champion_comparison: dict[str, Any] | None = None
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
    """Rule 1 on the lake lineage verified at registration (``registry.lineage``), or for an
    imported version on its artifact: the stored files hash to the recorded SHA-256 and the
    source and licence are declared (``registry.external``)."""
    if not lineage.get("verified"):
        problems = "; ".join(lineage.get("problems") or ["not verified"])
        return RuleResult(LINEAGE, False, problems, overridable=False)
    if (external := lineage.get("external")) is not None:
        return RuleResult(
            LINEAGE,
            True,
            f"external artifact: {external['files']} model files sha256 "
            f"{external['sha256'][:12]} verified; source {external['source']}; licence "
            f"{external['licence']} (not trained from the lake)",
            overridable=False,
        )
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
                    skipped = scores.get(language, {}).get("skipped")
                    why = (
                        f" ({language} not supported: {skipped:.0f} rows skipped)"
                        if skipped
                        else ""
                    )
                    problems.append(f"{metric}[{language}] missing{why}")
                elif (value < limit) if bound == "minimum" else (value > limit):
                    sign = "<" if bound == "minimum" else ">"
                    problems.append(f"{metric}[{language}]={value:.4f} {sign} {limit:g}")
    if problems:
        return RuleResult("thresholds", False, "; ".join(problems))
    return RuleResult("thresholds", True, f"{checked} thresholds met")


def rule_champion(report: dict[str, Any] | None, champion_version: str | None) -> RuleResult:
    """Rule 3 on the paired bootstrap against the champion (``registry.champion``)."""
    if champion_version is None or report is None:
        return RuleResult("champion", True, "no champion yet")
    confidence = report["family_confidence"]
    if report["worse"]:
        return RuleResult(
            "champion",
            False,
            f"significantly worse than champion v{champion_version} on "
            f"{', '.join(report['worse'])} (paired bootstrap, {confidence:.0%} family-wise)",
        )
    verdict = f"better on {', '.join(report['better'])}" if report["better"] else "no difference"
    return RuleResult(
        "champion",
        True,
        f"{verdict} against champion v{champion_version} on "
        f"{', '.join(report['compared']) or 'no shared metric'} (paired bootstrap, "
        f"{confidence:.0%} family-wise)",
    )


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
    champion: tuple[str, Callable[[], dict[str, Any]]] | None,
) -> Verdict:
    """All four rules; ``champion`` is (version, how to compare with it on our test rows)."""
    family_policy = policy.family(family)
    verdict = Verdict()
    verdict.rules.append(rule_lineage(lineage))
    verdict.rules.append(rule_thresholds(scores, family_policy))
    if champion is None:
        verdict.rules.append(rule_champion(None, None))
    else:
        try:
            verdict.champion_comparison = champion[1]()
        except Exception as error:  # an unreadable champion must not let a version through
            reason = f"could not compare with champion v{champion[0]}: {type(error).__name__}: "
            verdict.rules.append(RuleResult("champion", False, (reason + str(error))[:500]))
        else:
            verdict.rules.append(rule_champion(verdict.champion_comparison, champion[0]))
    smoke, verdict.smoke = rule_smoke(family, model_dir, policy)
    verdict.rules.append(smoke)
    return verdict
