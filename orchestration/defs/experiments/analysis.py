"""Experiment analysis assets: ``experiments/<key>/analysis``, one per spec in
``experiments/specs``.

Each reads the experiment's serving events, runs :func:`experiments.analysis.analyze` (and,
for a canary, :func:`experiments.rollout.advance`, which may move it to its next stage or halt
and roll it back) and attaches the report (Markdown) and the figure (PNG, embedded as a
``data:`` URI, which the Dagster UI renders) to the materialization. A sample-ratio mismatch
fails the step with its message: nothing about the metrics can be trusted until it is fixed.
"""

from collections.abc import Callable
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from core.settings import Settings
from experiments.spec import SPECS_DIR, ExperimentSpec, load_specs

EXPERIMENTS_GROUP = "experiments"


def analysis_key(key: str) -> AssetKey:
    return AssetKey(["experiments", key, "analysis"])


def build_analysis_asset(
    settings: Settings, spec: ExperimentSpec, specs_dir: Path = SPECS_DIR
) -> AssetsDefinition:
    """``experiments/<key>/analysis`` for one spec."""
    kind = "canary rollout" if spec.rollout else "experiment"

    @asset(
        key=analysis_key(spec.key),
        group_name=EXPERIMENTS_GROUP,
        kinds={"python"},
        description=f"Analysis of the {kind} {spec.key}: sample ratio, effects per metric, "
        "guardrails" + (", and the rollout's next step." if spec.rollout else "."),
    )
    def _analysis(context: AssetExecutionContext) -> MaterializeResult:
        return analysis_result(settings, spec, context.log.info, specs_dir)

    return _analysis


def analysis_result(
    settings: Settings,
    spec: ExperimentSpec,
    log: Callable[[str], None] = print,
    specs_dir: Path = SPECS_DIR,
) -> MaterializeResult:
    """Analyse ``spec``'s events now; the materialization's metadata."""
    from experiments.analysis import analyze
    from experiments.decision import read_events
    from experiments.plots import draw_analysis
    from experiments.rollout import advance
    from experiments.state import StateStore
    from training.common.figures import png_markdown

    store = StateStore(settings, specs_dir)
    state = store.get(spec.key)
    events = read_events(settings, spec.key)
    metadata: dict[str, MetadataValue] = {"status": MetadataValue.text(state.status)}
    if spec.rollout is not None and state.status == "running":
        step = advance(settings, spec.key, events, specs_dir=specs_dir)
        log(step.describe())
        metadata["rollout"] = MetadataValue.text(step.describe())
        analysis = step.analysis
    else:
        analysis = None
    if analysis is None:
        analysis = analyze(spec, events, weights=spec.weights_at(store.get(spec.key).stage))
    figure = draw_analysis(
        analysis, Path(settings.home) / "experiments" / spec.key / "analysis.png"
    )
    metadata |= {
        "status": MetadataValue.text(store.get(spec.key).status),
        "users": MetadataValue.json(analysis.users),
        "srm_p_value": MetadataValue.float(analysis.srm.p_value),
        "summary": MetadataValue.text(analysis.summary()),
        "report": MetadataValue.md(analysis.to_markdown()),
        "figure": MetadataValue.md(png_markdown(figure, f"experiment {spec.key}")),
        "figure_path": MetadataValue.path(str(figure)),
    }
    return MaterializeResult(metadata=metadata)


def experiment_assets(settings: Settings, specs_dir: Path = SPECS_DIR) -> list[AssetsDefinition]:
    """One analysis asset per spec, in key order."""
    return [
        build_analysis_asset(settings, spec, specs_dir)
        for _, spec in sorted(load_specs(specs_dir).items())
    ]
