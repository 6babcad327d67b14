"""Drift of production inputs against a champion's training data: PSI and KS, per language.

Pure: values in, scores out. PSI (population stability index) compares the shares of
categories, or of bins of a continuous value, ``sum((p - q) * ln(p / q))`` with ``q`` the
reference share and ``p`` the production share; KS is the two-sample Kolmogorov-Smirnov
statistic (``scipy.stats.ks_2samp``), the largest gap between the two empirical CDFs.
The thresholds are the ``VoiceOpsDataDrift`` alert's: PSI over 0.25, KS over 0.2, and the
NLU's embedding novelty share over 0.25 (:mod:`monitoring.vectors.embedding_drift`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

Method = Literal["psi", "ks", "novelty"]

#: Drifted when the score is over this (``monitoring/prometheus/rules/pipeline.yml``).
THRESHOLDS: dict[str, float] = {"psi": 0.25, "ks": 0.2, "novelty": 0.25}
#: Share given to a category one side never saw, so that ``ln(p / q)`` stays finite.
EMPTY_SHARE = 1e-4
#: Fewer production values than this for a feature and language: no score (too noisy).
MIN_VALUES = 50


def psi(reference: Iterable[Any], production: Iterable[Any]) -> float:
    """PSI of two samples of categories (or bin labels)."""
    expected, actual = Counter(reference), Counter(production)
    expected_total, actual_total = sum(expected.values()), sum(actual.values())
    if not expected_total or not actual_total:
        raise ValueError("PSI needs values on both sides")
    score = 0.0
    for category in expected.keys() | actual.keys():
        q = max(expected[category] / expected_total, EMPTY_SHARE)
        p = max(actual[category] / actual_total, EMPTY_SHARE)
        score += (p - q) * math.log(p / q)
    return score


def binned(values: Sequence[float], edges: Sequence[float]) -> list[int]:
    """The bin of each value: ``i`` for ``edges[i-1] <= v < edges[i]``, open at both ends."""
    return np.searchsorted(np.asarray(edges), np.asarray(values), side="right").tolist()


def quantile_edges(reference: Sequence[float], bins: int = 10) -> list[float]:
    """Inner bin edges at the reference's quantiles (duplicates dropped)."""
    quantiles = np.quantile(np.asarray(reference, dtype=float), np.linspace(0, 1, bins + 1)[1:-1])
    return sorted(set(quantiles.tolist()))


def binned_psi(reference: Sequence[float], production: Sequence[float], bins: int = 10) -> float:
    """PSI of a continuous value over ``bins`` quantile bins of the reference."""
    edges = quantile_edges(reference, bins)
    return psi(binned(reference, edges), binned(production, edges))


def ks(reference: Sequence[float], production: Sequence[float]) -> float:
    """The two-sample KS statistic."""
    from scipy.stats import ks_2samp  # scipy loads in ~0.3 s: only when a score is computed

    return float(ks_2samp(np.asarray(reference, float), np.asarray(production, float)).statistic)


@dataclass(frozen=True)
class DriftScore:
    """One feature of one family in one language (``all``: every language together)."""

    family: str
    feature: str
    language: str
    method: Method
    score: float
    reference_count: int
    production_count: int
    reference: str = "training"  # or "production": no training counterpart (see drift_inputs)

    @property
    def threshold(self) -> float:
        return THRESHOLDS[self.method]

    @property
    def drifted(self) -> bool:
        return self.score > self.threshold

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"threshold": self.threshold, "drifted": self.drifted}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DriftScore:
        fields = {k: v for k, v in values.items() if k not in ("threshold", "drifted")}
        return cls(**fields)


@dataclass(frozen=True)
class Feature:
    """A feature compared for a family: categorical (PSI) or continuous (KS and binned PSI);
    ``per_language`` compares within each language, else all rows together."""

    name: str
    kind: Literal["categorical", "continuous"]
    per_language: bool = True
    reference: str = "training"


def feature_scores(
    family: str,
    feature: Feature,
    reference: Sequence[dict[str, Any]],
    production: Sequence[dict[str, Any]],
    *,
    min_values: int = MIN_VALUES,
) -> list[DriftScore]:
    """Scores of ``feature`` (a key of the rows, each with a ``language``) per language."""

    def values(rows: Sequence[dict[str, Any]], language: str) -> list[Any]:
        return [
            row[feature.name]
            for row in rows
            if row.get(feature.name) not in (None, "")
            and (language == "all" or row.get("language") == language)
        ]

    languages = ["all"]
    if feature.per_language:
        languages = sorted({row["language"] for row in reference if row.get("language")})
    scores = []
    for language in languages:
        expected, actual = values(reference, language), values(production, language)
        if len(actual) < min_values or not expected:
            continue
        methods: list[tuple[Method, float]]
        if feature.kind == "categorical":
            methods = [("psi", psi(expected, actual))]
        else:
            methods = [("ks", ks(expected, actual)), ("psi", binned_psi(expected, actual))]
        for method, score in methods:
            scores.append(
                DriftScore(
                    family,
                    feature.name,
                    language,
                    method,
                    round(score, 6),
                    len(expected),
                    len(actual),
                    feature.reference,
                )
            )
    return scores


def drifted(scores: Iterable[DriftScore]) -> list[DriftScore]:
    """The scores over their threshold."""
    return [score for score in scores if score.drifted]
