"""``monitoring/drift``: the production turns of a recent window against each champion's
training data (``monitoring.drift_report``), one asset check per family, the report saved
where the pipeline metrics export it as ``voiceops_drift_score``."""

import json
from datetime import timedelta

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    Config,
    MaterializeResult,
    asset,
)

from monitoring.drift import MIN_VALUES, THRESHOLDS
from monitoring.drift_report import DriftReport, compute_drift, save_report
from orchestration.resources.lake import LakeResource
from training.families import FAMILIES

DRIFT_KEY = AssetKey(["monitoring", "drift"])
#: Materialization metadata: family -> the champion's lake commit, for each drifted family.
DRIFTED_METADATA = "drifted"


def check_name(family: str) -> str:
    return f"{family}_inputs_not_drifted"


class DriftConfig(Config):
    window_hours: float = 24.0
    min_values: int = MIN_VALUES


def family_check(report: DriftReport, family: str) -> AssetCheckResult:
    """Passed unless a score of ``family`` is over its threshold; every score in metadata."""
    scores = report.family_scores(family)
    champion = report.champions.get(family)
    over = [score for score in scores if score.drifted]
    if champion is None:
        description = "no champion with a recorded lake commit: nothing compared"
    elif not scores:
        description = f"too few production turns in the window ({report.production_turns})"
    elif over:
        description = "drifted: " + ", ".join(
            f"{s.feature}[{s.language}] {s.method} {s.score:.3f}" for s in over
        )
    else:
        description = f"{len(scores)} scores under PSI {THRESHOLDS['psi']} / KS {THRESHOLDS['ks']}"
    return AssetCheckResult(
        check_name=check_name(family),
        asset_key=DRIFT_KEY,
        passed=not over,
        severity=AssetCheckSeverity.WARN,
        description=description,
        metadata={
            "scores": {f"{s.feature}[{s.language}].{s.method}": s.score for s in scores},
            "champion_version": champion["version"] if champion else "",
            "lake_commit": champion["lake_commit"] if champion else "",
        },
    )


@asset(
    key=DRIFT_KEY,
    group_name="monitoring",
    check_specs=[
        AssetCheckSpec(
            check_name(name),
            asset=DRIFT_KEY,
            description=f"{name}: no PSI over {THRESHOLDS['psi']}, no KS over {THRESHOLDS['ks']}"
            + (f", no embedding novelty over {THRESHOLDS['novelty']}" if name == "nlu" else ""),
        )
        for name in FAMILIES
    ],
    description="Production turns of the last window_hours (language mix, intents per "
    "language, NLU confidence) against each champion's training data at its lake commit: PSI "
    "and KS per language; the NLU champion's utterance embeddings of newly published calls "
    "against its training rows (novelty share, monitoring.vectors); saved to "
    "<home>/monitoring/drift.json for voiceops_drift_score.",
)
def drift(context: AssetExecutionContext, config: DriftConfig, lake: LakeResource):
    settings = lake.settings()
    report = compute_drift(
        settings, timedelta(hours=config.window_hours), min_values=config.min_values
    )
    path = save_report(settings, report)
    drifted = {name: report.champions[name]["lake_commit"] for name in report.drifted_families()}
    context.log.info(
        f"{len(report.scores)} drift scores over {report.production_turns} turns; "
        f"drifted: {', '.join(drifted) or 'none'}"
    )
    yield MaterializeResult(
        metadata={
            "production_turns": report.production_turns,
            "window_start": report.window_start,
            "scores": len(report.scores),
            DRIFTED_METADATA: json.dumps(drifted, sort_keys=True),
            "champions": json.dumps(report.champions, sort_keys=True),
            "embedding": json.dumps(report.embedding, sort_keys=True, ensure_ascii=False),
            "report": str(path),
        }
    )
    for name in FAMILIES:
        yield family_check(report, name)
