"""Per-example sufficient statistics of a metric: what a paired bootstrap resamples.

A corpus metric is a function of column sums over its examples: CER is total edits / total
reference characters, slot F1 is ``2tp / (2tp + fp + fn)`` of the summed span counts, corpus
BLEU needs the summed clipped n-gram matches, n-gram totals and lengths. So one metric of one
model on one set of rows is a matrix ``values`` (an example per row, a named count per column)
and an aggregate ``kind`` that turns column sums into the metric:

    ==============  ===================================================  ====================
    kind            columns (sums)                                       metric
    ==============  ===================================================  ====================
    ``ratio``       numerator, denominator                               c0 / c1 (0 if c1 = 0)
    ``f1``          tp, fp, fn                                           2tp / (2tp + fp + fn)
    ``macro_f1``    (tp, fp, fn) per class                               mean F1 of the classes
                                                                         seen (true or predicted)
    ``bleu``        matches_1..N, totals_1..N, hypothesis / reference    corpus BLEU-N
                    lengths
    ``rate_ratio``  numerator errors, denominator errors, length         (c0/c2) / max(c1/c2,
                                                                         1e-3)
    ==============  ===================================================  ====================

The same aggregate functions compute the families' own corpus metrics (one sum vector) and
the bootstrap's resampled ones (a matrix of sums, one row per resample), so the two agree.
Given a single sum vector they use Python's ``math`` for ``log``/``exp``: the families'
figures stay bit-for-bit what they were (NumPy's vectorized ``log``/``exp`` may differ in
the last bit).

Rows are paired across models by ``keys`` (the mart's id column: ``call_id`` for STT and TTS,
``example_id`` for NLU and NLG) and carry their ``languages``, so a metric can be computed and
compared per language.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

ALL = "all"
#: ``rate_ratio``'s floor of the denominator rate (a recording set the STT model reads
#: perfectly must not make the ratio infinite).
RATE_FLOOR = 1e-3

Direction = Literal["higher", "lower"]
Aggregate = Callable[[np.ndarray], Any]


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator``, 0.0 where the denominator is 0."""
    numerator, denominator = np.broadcast_arrays(
        np.asarray(numerator, np.float64), np.asarray(denominator, np.float64)
    )
    out = np.zeros(numerator.shape)
    return np.divide(numerator, denominator, out=out, where=denominator != 0)


def _scalar_or_array(values: np.ndarray) -> float | np.ndarray:
    """A Python float for one sum vector's metric, else the array of metrics."""
    return float(values) if np.ndim(values) == 0 else values


def _log(x: np.ndarray) -> np.ndarray:
    return np.asarray(math.log(x)) if np.ndim(x) == 0 else np.log(x)


def _exp(x: np.ndarray) -> np.ndarray:
    return np.asarray(math.exp(x)) if np.ndim(x) == 0 else np.exp(x)


def ratio(sums: np.ndarray) -> float | np.ndarray:
    """``c0 / c1`` (accuracy, CER, WER, a mean), 0.0 when nothing was counted."""
    sums = np.asarray(sums, np.float64)
    return _scalar_or_array(_divide(sums[..., 0], sums[..., 1]))


def f1(sums: np.ndarray) -> float | np.ndarray:
    """``2tp / (2tp + fp + fn)`` of (tp, fp, fn); 1.0 when there was nothing to find or find."""
    sums = np.asarray(sums, np.float64)
    tp, fp, fn = sums[..., 0], sums[..., 1], sums[..., 2]
    found = _divide(2 * tp, 2 * tp + fp + fn)
    return _scalar_or_array(np.where(tp + fp + fn > 0, found, 1.0))


def macro_f1(sums: np.ndarray) -> float | np.ndarray:
    """Mean F1 over the classes seen (in the truth or the predictions); 0.0 for none.

    Columns are (tp, fp, fn) per class, classes in the order the family sorts them.
    """
    sums = np.asarray(sums, np.float64)
    counts = sums.reshape(*sums.shape[:-1], -1, 3)
    tp, fp, fn = counts[..., 0], counts[..., 1], counts[..., 2]
    scores = _divide(2 * tp, 2 * tp + fp + fn)  # 0.0 when tp == 0
    seen = tp + fp + fn > 0
    if sums.ndim == 1:  # the family's own figure: np.mean of the seen classes, in order
        return float(np.mean(scores[seen])) if seen.any() else 0.0
    return _divide(np.where(seen, scores, 0.0).sum(axis=-1), seen.sum(axis=-1))


def bleu(sums: np.ndarray) -> float | np.ndarray:
    """Corpus BLEU-N (Papineni et al. 2002: uniform weights, no smoothing) from the sums of
    clipped n-gram matches (N columns), n-gram totals (N), hypothesis and reference length."""
    sums = np.asarray(sums, np.float64)
    max_n = (sums.shape[-1] - 2) // 2
    matches, totals = sums[..., :max_n], sums[..., max_n : 2 * max_n]
    hyp_len, ref_len = sums[..., 2 * max_n], sums[..., 2 * max_n + 1]
    scored = (hyp_len > 0) & (matches.min(axis=-1) > 0)
    safe_matches = np.where(scored[..., None], matches, 1.0)
    safe_totals = np.where(scored[..., None], totals, 1.0)
    log_precision = (
        sum(_log(safe_matches[..., n] / safe_totals[..., n]) for n in range(max_n)) / max_n
    )
    safe_hyp = np.where(scored, hyp_len, 1.0)
    brevity = np.where(hyp_len > ref_len, 1.0, _exp(1 - ref_len / safe_hyp))
    return _scalar_or_array(np.where(scored, brevity * _exp(log_precision), 0.0))


def rate_ratio(sums: np.ndarray) -> float | np.ndarray:
    """``(c0 / c2) / max(c1 / c2, RATE_FLOOR)``: two error rates on the same references
    (TTS's round-trip CER ratio: errors on synthesized audio over errors on recordings)."""
    sums = np.asarray(sums, np.float64)
    numerator = _divide(sums[..., 0], sums[..., 2])
    denominator = np.maximum(_divide(sums[..., 1], sums[..., 2]), RATE_FLOOR)
    return _scalar_or_array(numerator / denominator)


AGGREGATES: dict[str, Aggregate] = {
    "ratio": ratio,
    "f1": f1,
    "macro_f1": macro_f1,
    "bleu": bleu,
    "rate_ratio": rate_ratio,
}


def aggregate(kind: str, sums: np.ndarray) -> float | np.ndarray:
    """The metric of column ``sums`` (``[..., k]``): a float for one vector, else an array."""
    try:
        return AGGREGATES[kind](sums)
    except KeyError:
        raise ValueError(f"unknown aggregate {kind!r} (known: {', '.join(AGGREGATES)})") from None


def column_sums(values: np.ndarray) -> np.ndarray:
    """Sums of the columns of ``values`` [n, k], each summed as one contiguous array.

    (NumPy then sums pairwise, as ``np.mean`` of a list does: a mean of per-example floats
    computed from these sums is the family's ``np.mean`` bit for bit.)
    """
    return np.ascontiguousarray(np.asarray(values, np.float64).T).sum(axis=1)


def corpus_metric(kind: str, per_example: Sequence[Sequence[float]], width: int) -> float:
    """The metric of per-example counts (``width`` columns each); no examples = zero sums."""
    values = np.asarray(per_example, np.float64).reshape(-1, width)
    return float(aggregate(kind, column_sums(values)))


@dataclass(frozen=True, eq=False)
class ExampleStats:
    """One metric of one model on a set of rows, as per-example sufficient statistics.

    ``values[i, j]`` is column ``columns[j]`` of the example keyed ``keys[i]`` (in
    ``languages[i]``); ``aggregate(kind, values.sum(axis=0))`` is the metric.
    """

    metric: str
    kind: str
    columns: tuple[str, ...]
    values: np.ndarray  # [n_examples, k] float64
    keys: tuple[str, ...]
    languages: tuple[str, ...]
    direction: Direction
    meta: dict[str, Any] = field(default_factory=dict)  # how it was measured (JSON-able)

    def __post_init__(self) -> None:
        values = np.asarray(self.values, np.float64).reshape(-1, len(self.columns))
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "keys", tuple(str(k) for k in self.keys))
        object.__setattr__(self, "languages", tuple(self.languages))
        if self.kind not in AGGREGATES:
            raise ValueError(f"{self.metric}: unknown aggregate {self.kind!r}")
        if self.direction not in ("higher", "lower"):
            raise ValueError(f"{self.metric}: direction must be 'higher' or 'lower'")
        if not len(values) == len(self.keys) == len(self.languages):
            raise ValueError(
                f"{self.metric}: {len(values)} rows of values, {len(self.keys)} keys, "
                f"{len(self.languages)} languages"
            )
        if len(set(self.keys)) != len(self.keys):
            raise ValueError(f"{self.metric}: example keys are not unique")

    @classmethod
    def from_rows(
        cls,
        metric: str,
        kind: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[float]],
        keys: Sequence[Any],
        languages: Sequence[str],
        direction: Direction,
        **meta: Any,
    ) -> ExampleStats:
        """From one sequence of counts per example (``len(columns)`` numbers each)."""
        values = np.asarray(rows, np.float64).reshape(-1, len(columns))
        return cls(
            metric, kind, tuple(columns), values, tuple(keys), tuple(languages), direction, meta
        )

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher"

    def mask(self, language: str = ALL) -> np.ndarray:
        """Which examples belong to ``language`` (every one for ``"all"``)."""
        if language == ALL:
            return np.ones(len(self), bool)
        return np.asarray(self.languages, dtype=object) == language

    def subset(self, keep: Sequence[bool] | np.ndarray, metric: str | None = None) -> ExampleStats:
        """The examples where ``keep`` is true, optionally as another metric's name."""
        keep = np.asarray(keep, bool)
        return ExampleStats(
            metric or self.metric,
            self.kind,
            self.columns,
            self.values[keep],
            tuple(k for k, kept in zip(self.keys, keep, strict=True) if kept),
            tuple(lang for lang, kept in zip(self.languages, keep, strict=True) if kept),
            self.direction,
            self.meta,
        )

    def select(self, language: str = ALL) -> ExampleStats:
        """The examples of one language (``"all"``: this object)."""
        return self if language == ALL else self.subset(self.mask(language))

    def aligned_to(self, keys: Sequence[str]) -> ExampleStats:
        """The same stats with rows in the order of ``keys`` (which must be exactly ours)."""
        if tuple(keys) == self.keys:
            return self
        if set(keys) != set(self.keys) or len(keys) != len(self.keys):
            raise ValueError(f"{self.metric}: the example keys differ")
        position = {key: i for i, key in enumerate(self.keys)}
        order = [position[key] for key in keys]
        return ExampleStats(
            self.metric,
            self.kind,
            self.columns,
            self.values[order],
            tuple(keys),
            tuple(self.languages[i] for i in order),
            self.direction,
            self.meta,
        )

    def sums(self, language: str = ALL) -> np.ndarray:
        """Column sums over the examples of ``language``."""
        return column_sums(self.select(language).values)

    def value(self, language: str = ALL) -> float:
        """The metric over the examples of ``language``."""
        return float(aggregate(self.kind, self.sums(language)))

    def language_names(self) -> list[str]:
        """``"all"`` and every language present, sorted."""
        return [ALL, *sorted(set(self.languages))]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (:meth:`from_dict` reads it back)."""
        return {
            "metric": self.metric,
            "kind": self.kind,
            "columns": list(self.columns),
            "values": self.values.tolist(),
            "keys": list(self.keys),
            "languages": list(self.languages),
            "direction": self.direction,
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExampleStats:
        return cls(
            data["metric"],
            data["kind"],
            tuple(data["columns"]),
            np.asarray(data["values"], np.float64).reshape(-1, len(data["columns"])),
            tuple(data["keys"]),
            tuple(data["languages"]),
            data["direction"],
            dict(data.get("meta") or {}),
        )


def scores_of(stats: dict[str, ExampleStats]) -> dict[str, dict[str, float]]:
    """``{language: {metric: value}}`` of a family's stats (``"all"`` and each language)."""
    scores: dict[str, dict[str, float]] = {}
    for name, one in stats.items():
        for language in one.language_names():
            scores.setdefault(language, {})[name] = one.value(language)
    return scores


def row_keys(rows: Sequence[dict[str, Any]], column: str) -> list[str]:
    """Each row's id from ``column`` (``row-<index>`` for a row without one, as in tests)."""
    return [str(row.get(column) or f"row-{i}") for i, row in enumerate(rows)]
