"""The figure of an :class:`~experiments.analysis.Analysis`, as one PNG.

Left: each metric's per-user mean per arm with its 95 % CI (one panel per metric). Right:
cumulative users per arm over time (a sample-ratio problem shows as diverging slopes).
Drawn on matplotlib's Agg canvas (no display, no pyplot state), like ``training.common.figures``.
"""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from experiments.analysis import Analysis


def draw_analysis(analysis: Analysis, path: Path) -> Path:
    """Write the analysis figure to ``path`` (PNG) and return it."""
    metrics = list(analysis.arm_means)
    panels = len(metrics) + 1
    figure = Figure(figsize=(4 * panels, 3.6), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, panels, squeeze=False)[0]
    for ax, metric in zip(axes, metrics, strict=False):
        arms = list(analysis.arm_means[metric])
        means = [analysis.arm_means[metric][arm][0] for arm in arms]
        errors = [
            [_gap(m, analysis.arm_means[metric][a][1]) for a, m in zip(arms, means, strict=True)],
            [_gap(analysis.arm_means[metric][a][2], m) for a, m in zip(arms, means, strict=True)],
        ]
        ax.errorbar(range(len(arms)), means, yerr=errors, fmt="o", capsize=6)
        ax.set_xticks(range(len(arms)), arms)
        ax.set_xlim(-0.5, len(arms) - 0.5)
        ax.set_title(f"{metric} (mean, 95 % CI)")
    users = axes[-1]
    for arm, times in analysis.first_seen.items():
        if times:
            users.step(times, range(1, len(times) + 1), where="post", label=arm)
    users.set_title("cumulative users per arm")
    users.legend(loc="upper left")
    users.tick_params(axis="x", labelrotation=30)
    figure.suptitle(f"experiment {analysis.key}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    return path


def _gap(high: float, low: float) -> float:
    return 0.0 if math.isnan(high) or math.isnan(low) else max(high - low, 0.0)
