"""The study's figures as PNG files: optimisation history, parameter importances (PED-ANOVA:
no scikit-learn needed) and parallel coordinates (Optuna's Matplotlib backend)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import optuna


def save_plots(
    study: optuna.Study, directory: Path, log: Callable[[str], None] = print
) -> list[Path]:
    """Draw each figure into ``directory``; one that cannot be drawn yet (too few completed
    trials) is skipped with a note."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.importance import PedAnovaImportanceEvaluator
    from optuna.visualization import matplotlib as figures

    directory.mkdir(parents=True, exist_ok=True)
    draw = {
        "optimization_history": lambda: figures.plot_optimization_history(study),
        "param_importances": lambda: figures.plot_param_importances(
            study, evaluator=PedAnovaImportanceEvaluator()
        ),
        "parallel_coordinate": lambda: figures.plot_parallel_coordinate(study),
    }
    complete = [t for t in study.get_trials() if t.state == optuna.trial.TrialState.COMPLETE]
    saved = []
    for name, plot in draw.items():
        if len(complete) < 2:
            log(f"plot {name}: skipped ({len(complete)} completed trials)")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Optuna marks these plots experimental
            try:
                axes = plot()
            except (ValueError, RuntimeError, ZeroDivisionError) as error:
                log(f"plot {name}: skipped ({error})")
                continue
        figure = axes.figure if hasattr(axes, "figure") else axes.flat[0].figure
        path = directory / f"{name}.png"
        figure.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(figure)
        saved.append(path)
    return saved
