"""Is a new model better than the champion? A paired bootstrap on the same test rows.

Both models are scored on the same rows (:class:`~training.common.example_stats.ExampleStats`,
paired by example key). Each bootstrap resample draws the rows with replacement: the
multinomial counts ``[resamples, n]`` of those draws times each model's per-example
statistics ``[n, k]`` give both models' column sums on every resample, hence both metrics,
in two matrix products (no Python loop over resamples). The difference ``new - champion``
is oriented so that positive means *the new model is better* (for CER, lower is better).
With ``confidence`` c, its percentile interval is ``[q((1-c)/2), q((1+c)/2)]`` of the
resampled differences; the verdict is ``better`` when the interval lies above 0, ``worse``
when below, else ``no_difference`` (Koehn 2004, "Statistical significance tests for
machine translation evaluation": the paired bootstrap on corpus metrics).

    new = family.module("evaluate").example_stats(new_dir, test_rows)
    old = family.module("evaluate").example_stats(champion_dir, test_rows)
    paired_bootstrap(new["cer"], old["cer"], language="ru").verdict   # "better" | ...
    compare_models(new, old)                                           # JSON-able report

Every metric and language is a test of its own: at 95 % each has a 2.5 % chance of calling
a true tie ``worse``, so a rule over many of them should weigh that (e.g. fewer languages or
a higher ``confidence``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from training.common.example_stats import ALL, ExampleStats, aggregate

Verdict = Literal["better", "worse", "no_difference"]
#: Count matrices are drawn in blocks of at most this many cells (512 KB of float64): blocks
#: that stay in the CPU cache made the bootstrap 3-5x faster than one [resamples, n] matrix
#: (n = 2,000 and 10,000 rows; ``python -m bench.bootstrap_gate``).
MAX_CELLS = 1 << 16


@dataclass(frozen=True)
class BootstrapResult:
    """The paired bootstrap's answer for one metric on one language's rows."""

    metric: str
    language: str
    direction: str  # "higher" | "lower": which way the metric is better
    n: int  # paired examples
    new: float  # point estimates on the rows themselves
    champion: float
    difference: float  # oriented: > 0 = the new model is better
    ci_low: float
    ci_high: float
    share_new_better: float  # share of resamples in which the new model was better
    confidence: float
    resamples: int
    seed: int
    verdict: Verdict

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_paired(new: ExampleStats, champion: ExampleStats) -> ExampleStats:
    """The champion's stats in the new stats' row order; ValueError if they do not pair."""
    name = new.metric
    if champion.metric != name:
        raise ValueError(f"cannot compare metric {name!r} with {champion.metric!r}")
    if (champion.kind, champion.columns, champion.direction) != (
        new.kind,
        new.columns,
        new.direction,
    ):
        raise ValueError(
            f"{name}: the two models' stats are not of the same form "
            f"({new.kind}{list(new.columns)} {new.direction} vs "
            f"{champion.kind}{list(champion.columns)} {champion.direction})"
        )
    if new.meta != champion.meta:
        raise ValueError(
            f"{name}: the two models were measured differently ({new.meta} vs {champion.meta})"
        )
    if set(new.keys) != set(champion.keys):
        only_new = sorted(set(new.keys) - set(champion.keys))
        only_champion = sorted(set(champion.keys) - set(new.keys))
        raise ValueError(
            f"{name}: the models were not scored on the same examples "
            f"({len(only_new)} keys only in the new model's stats, e.g. {only_new[:3]}; "
            f"{len(only_champion)} only in the champion's, e.g. {only_champion[:3]})"
        )
    aligned = champion.aligned_to(new.keys)
    if aligned.languages != new.languages:
        raise ValueError(f"{name}: the same example keys have different languages")
    return aligned


def resample_counts(n: int, resamples: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Blocks of bootstrap counts ``[m, n]`` (float64), ``resamples`` rows in all.

    Row r counts how often each example was drawn in n draws with replacement: a
    Multinomial(n, uniform) sample, computed as a bincount of uniform indices (3-4x faster
    than ``Generator.multinomial``, which draws n binomials one after another per row).
    """
    block = max(1, MAX_CELLS // max(n, 1))
    for start in range(0, resamples, block):
        size = min(block, resamples - start)
        drawn = rng.integers(0, n, size=(size, n)) + n * np.arange(size)[:, None]
        yield np.bincount(drawn.ravel(), minlength=size * n).reshape(size, n).astype(np.float64)


def paired_bootstrap(
    new: ExampleStats,
    champion: ExampleStats,
    *,
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    language: str = ALL,
) -> BootstrapResult:
    """Paired bootstrap of ``new`` against ``champion`` on the rows of ``language``.

    Raises ValueError (naming the metric) when the two were not measured on the same example
    keys or are not the same metric, and when ``language`` has no rows.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), not {confidence}")
    if resamples < 1:
        raise ValueError(f"resamples must be positive, not {resamples}")
    champion = _check_paired(new, champion)
    keep = new.mask(language)
    n = int(keep.sum())
    if n == 0:
        raise ValueError(f"{new.metric}: no examples in language {language!r}")
    new_values, champion_values = new.values[keep], champion.values[keep]
    sign = 1.0 if new.higher_is_better else -1.0
    rng = np.random.default_rng(seed)
    differences = np.concatenate(
        [
            sign
            * (
                aggregate(new.kind, counts @ new_values)
                - aggregate(new.kind, counts @ champion_values)
            )
            for counts in resample_counts(n, resamples, rng)
        ]
    )
    alpha = 1.0 - confidence
    low, high = np.quantile(differences, [alpha / 2, 1 - alpha / 2])
    new_value, champion_value = new.value(language), champion.value(language)
    verdict: Verdict = "better" if low > 0 else "worse" if high < 0 else "no_difference"
    return BootstrapResult(
        metric=new.metric,
        language=language,
        direction=new.direction,
        n=n,
        new=new_value,
        champion=champion_value,
        difference=sign * (new_value - champion_value),
        ci_low=float(low),
        ci_high=float(high),
        share_new_better=float(np.mean(differences > 0)),
        confidence=confidence,
        resamples=resamples,
        seed=seed,
        verdict=verdict,
    )


def compare_models(
    new: dict[str, ExampleStats],
    champion: dict[str, ExampleStats],
    *,
    metrics: Sequence[str] | None = None,
    languages: Sequence[str] | None = None,
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """The paired bootstrap for every metric both have (or ``metrics``) and every language.

    ``languages`` defaults to ``"all"`` plus each language present; a language without rows
    is skipped. Returns a JSON-able report::

        {"resamples", "confidence", "seed",
         "results": {metric: {language: BootstrapResult.to_dict()}},
         "better": ["cer[ru]", ...], "worse": [...],     # metric[language] by verdict
         "missing": {"new": [...], "champion": [...]}}   # metrics only one side has

    A metric whose stats do not pair raises ValueError (a gate must not wave it through).
    """
    wanted = list(metrics) if metrics is not None else sorted(set(new) | set(champion))
    report: dict[str, Any] = {
        "resamples": resamples,
        "confidence": confidence,
        "seed": seed,
        "results": {},
        "better": [],
        "worse": [],
        "missing": {
            "new": [m for m in wanted if m not in new],
            "champion": [m for m in wanted if m not in champion],
        },
    }
    for metric in wanted:
        if metric not in new or metric not in champion:
            continue
        ours = new[metric]
        present = [lang for lang in (languages or ours.language_names()) if ours.mask(lang).any()]
        for language in present:
            result = paired_bootstrap(
                ours,
                champion[metric],
                resamples=resamples,
                confidence=confidence,
                seed=seed,
                language=language,
            )
            report["results"].setdefault(metric, {})[language] = result.to_dict()
            if result.verdict != "no_difference":
                report[result.verdict].append(f"{metric}[{language}]")
    return report
