"""One trial as a cluster runs it (``voiceops tune trial FAMILY ...``): train the family on
the published marts of one lake commit and print each epoch's metrics, then the final ones,
as ``name=value`` lines for Katib's stdout metrics collector."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from pathlib import Path

from core.errors import InputError
from core.settings import Settings
from training.common.data import published_commit
from training.families import family as get_family
from tuning.objective import flat_metrics


def metric_line(metrics: dict[str, float], epoch: int | None = None) -> str:
    """``epoch=3 loss=0.41 val_loss=0.52`` (non-finite values left out: Katib cannot parse
    them, and the trial then has no value, which fails it)."""
    pairs = [f"epoch={epoch}"] if epoch is not None else []
    pairs += [f"{name}={value!r}" for name, value in metrics.items() if math.isfinite(value)]
    return " ".join(pairs)


def run_trial(
    settings: Settings,
    family_name: str,
    size: str,
    sets: list[str],
    commit: str | None = None,
    out: Callable[[str], None] = print,
) -> dict[str, float]:
    """Train once with ``--set`` values ``sets`` and print the metric lines."""
    family = get_family(family_name)
    config_class = getattr(family.module("config"), family.config_class_name)
    try:
        config = config_class.preset(size, sets)
    except (ValueError, TypeError) as error:
        raise InputError(str(error)) from None
    commit = commit or published_commit(settings)
    if commit is None:
        raise InputError("nothing is published yet: run the pipeline first")
    rows = family.load_rows(settings, commit)
    with tempfile.TemporaryDirectory(prefix=f"trial-{family_name}-") as run_dir:
        summary = family.run(
            rows,
            config,
            Path(run_dir),
            on_epoch=lambda epoch, logs: out(metric_line(logs, epoch)),
        )
    final = flat_metrics(summary.scores)
    out(metric_line(final))
    return final
