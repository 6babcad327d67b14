"""What one training run hands to the platform: the export, flat scores and its curves."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RunSummary:
    """A finished run of any family, in the shape the Dagster asset and the registry read.

    ``scores`` is ``{split: {language: {metric: float}}}`` for every evaluated split;
    ``extra`` holds family-specific figures (floats) and ``tables`` markdown for the UI.
    """

    model_path: Path
    scores: dict[str, dict[str, dict[str, float]]]
    history: dict[str, list[float]]
    seconds: float
    params: int
    epochs: int
    extra: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)


def curves_table(history: dict[str, list[float]], every: int = 1) -> str:
    """Training curves as a markdown table: one row per epoch, one column per metric."""
    names = sorted(history)
    epochs = max((len(v) for v in history.values()), default=0)
    lines = ["| epoch | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for epoch in range(0, epochs, max(every, 1)):
        cells = [f"{history[n][epoch]:.4f}" if epoch < len(history[n]) else "" for n in names]
        lines.append(f"| {epoch + 1} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
