"""The paired bootstrap (registry.compare) and the aggregates it resamples, on simulated stats."""

from __future__ import annotations

import json

import numpy as np
import pytest

from registry.compare import compare_models, paired_bootstrap
from training.common.example_stats import AGGREGATES, ExampleStats, aggregate


def accuracy_stats(correct: np.ndarray, languages: list[str] | None = None) -> ExampleStats:
    """intent_accuracy-like stats: (correct, 1) per example, keys ``ex-<i>``."""
    n = len(correct)
    return ExampleStats.from_rows(
        "intent_accuracy",
        "ratio",
        ("correct", "examples"),
        np.stack([correct, np.ones(n)], axis=1),
        [f"ex-{i}" for i in range(n)],
        languages or ["ru" if i % 2 else "en" for i in range(n)],
        "higher",
    )


def cer_stats(
    edits: np.ndarray, lengths: np.ndarray, keys: list[str] | None = None
) -> ExampleStats:
    n = len(edits)
    return ExampleStats.from_rows(
        "cer",
        "ratio",
        ("char_edits", "reference_chars"),
        np.stack([edits, lengths], axis=1),
        keys or [f"call-{i}" for i in range(n)],
        ["ru" if i % 2 else "en" for i in range(n)],
        "lower",
    )


def paired_accuracy(n: int, p_new: float, p_old: float, seed: int) -> tuple[np.ndarray, ...]:
    """Correctness of two models on the same examples: both right with probability
    ``min(p_new, p_old) - 0.05``, so each is sometimes right where the other is wrong."""
    rng = np.random.default_rng(seed)
    both = min(p_new, p_old) - 0.05
    outcome = rng.choice(4, size=n, p=[both, p_new - both, p_old - both, 1 - p_new - p_old + both])
    return np.isin(outcome, (0, 1)).astype(float), np.isin(outcome, (0, 2)).astype(float)


def paired_cer(n: int, rate_new: float, rate_old: float, seed: int) -> tuple[np.ndarray, ...]:
    """(edits_new, edits_old, lengths): lengths vary, edits ~ Binomial(length, rate)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(10, 60, n).astype(float)
    return (
        rng.binomial(lengths.astype(int), rate_new).astype(float),
        rng.binomial(lengths.astype(int), rate_old).astype(float),
        lengths,
    )


# --------------------------------------------------------------------------- verdicts


def test_a_planted_improvement_is_found_in_both_directions():
    new, old = paired_accuracy(600, 0.85, 0.70, seed=1)
    result = paired_bootstrap(accuracy_stats(new), accuracy_stats(old))
    assert result.verdict == "better"
    assert result.difference == pytest.approx(new.mean() - old.mean())
    assert 0 < result.ci_low < result.difference < result.ci_high
    assert result.share_new_better > 0.99
    reverse = paired_bootstrap(accuracy_stats(old), accuracy_stats(new))
    assert reverse.verdict == "worse" and reverse.difference == pytest.approx(-result.difference)


def test_lower_is_better_metrics_are_oriented_so_positive_means_better():
    new_edits, old_edits, lengths = paired_cer(400, 0.10, 0.15, seed=2)
    result = paired_bootstrap(cer_stats(new_edits, lengths), cer_stats(old_edits, lengths))
    assert result.new < result.champion  # a lower CER...
    assert result.difference > 0 and result.verdict == "better"  # ...is better
    assert result.direction == "lower"


def test_identical_models_show_no_difference():
    new, _ = paired_accuracy(300, 0.8, 0.8, seed=3)
    result = paired_bootstrap(accuracy_stats(new), accuracy_stats(new.copy()))
    assert result.verdict == "no_difference"
    assert (result.difference, result.ci_low, result.ci_high) == (0.0, 0.0, 0.0)
    assert result.share_new_better == 0.0


def test_a_small_difference_on_few_rows_is_no_difference():
    new, old = paired_accuracy(40, 0.80, 0.775, seed=4)
    result = paired_bootstrap(accuracy_stats(new), accuracy_stats(old))
    assert result.verdict == "no_difference"
    assert result.ci_low < 0 < result.ci_high


def test_the_same_seed_gives_the_same_answer_and_another_seed_another_interval():
    new, old = paired_accuracy(200, 0.8, 0.75, seed=5)
    a, b = accuracy_stats(new), accuracy_stats(old)
    first = paired_bootstrap(a, b, seed=7)
    assert paired_bootstrap(a, b, seed=7) == first
    other = paired_bootstrap(a, b, seed=8)
    assert (other.ci_low, other.ci_high) != (first.ci_low, first.ci_high)
    assert other.difference == first.difference  # the point estimate is not resampled


def test_a_higher_confidence_widens_the_interval():
    new, old = paired_accuracy(300, 0.8, 0.75, seed=6)
    a, b = accuracy_stats(new), accuracy_stats(old)
    narrow, wide = (paired_bootstrap(a, b, confidence=c) for c in (0.8, 0.99))
    assert wide.ci_low < narrow.ci_low and narrow.ci_high < wide.ci_high


# --------------------------------------------------------------------------- coverage


@pytest.mark.parametrize("metric", ["intent_accuracy", "cer"])
def test_the_interval_covers_the_true_difference_at_about_the_stated_rate(metric):
    """Over 150 simulated test sets (fixed seeds) the 90 % interval holds the population
    difference in about 90 % of them (binomial s.d. ~2.4 points)."""
    covered, trials, n = 0, 150, 200
    for trial in range(trials):
        if metric == "cer":  # population CERs 0.10 and 0.12: true difference +0.02
            new_edits, old_edits, lengths = paired_cer(n, 0.10, 0.12, seed=100 + trial)
            new, old, truth = cer_stats(new_edits, lengths), cer_stats(old_edits, lengths), 0.02
        else:  # P(correct) 0.80 and 0.75 with a shared difficulty: true difference +0.05
            new_correct, old_correct = paired_accuracy(n, 0.80, 0.75, seed=100 + trial)
            new, old, truth = accuracy_stats(new_correct), accuracy_stats(old_correct), 0.05
        result = paired_bootstrap(new, old, resamples=1000, confidence=0.9, seed=trial)
        covered += result.ci_low <= truth <= result.ci_high
    assert 0.84 <= covered / trials <= 0.96


# --------------------------------------------------------------------------- pairing


def test_one_language_is_compared_on_its_own_rows():
    n = 400
    languages = ["ru"] * (n // 2) + ["en"] * (n // 2)
    new, old = paired_accuracy(n, 0.9, 0.6, seed=9)
    new[n // 2 :] = old[n // 2 :]  # better in Russian only
    a, b = accuracy_stats(new, languages), accuracy_stats(old, languages)
    ru = paired_bootstrap(a, b, language="ru")
    en = paired_bootstrap(a, b, language="en")
    assert (ru.verdict, en.verdict) == ("better", "no_difference")
    assert ru.n == en.n == n // 2
    assert ru.new == pytest.approx(new[: n // 2].mean()) and ru.new == a.value("ru")
    assert paired_bootstrap(a, b).n == n
    with pytest.raises(ValueError, match=r"intent_accuracy: no examples in language 'de'"):
        paired_bootstrap(a, b, language="de")


def test_stats_on_different_examples_are_refused_naming_the_metric():
    edits, _, lengths = paired_cer(50, 0.1, 0.1, seed=10)
    new = cer_stats(edits, lengths)
    other_rows = cer_stats(edits, lengths, keys=[f"call-{i + 1}" for i in range(50)])
    with pytest.raises(ValueError, match="cer: the models were not scored on the same examples"):
        paired_bootstrap(new, other_rows)
    with pytest.raises(ValueError, match="cer"):
        paired_bootstrap(new, cer_stats(edits[:49], lengths[:49]))
    with pytest.raises(ValueError, match="'cer' with 'intent_accuracy'"):
        paired_bootstrap(new, accuracy_stats(np.ones(50)))
    measured_otherwise = ExampleStats.from_dict(new.to_dict() | {"meta": {"stt_model": "other"}})
    with pytest.raises(ValueError, match="cer: the two models were measured differently"):
        paired_bootstrap(new, measured_otherwise)


def test_the_champions_rows_are_paired_by_key_not_by_position():
    new_edits, old_edits, lengths = paired_cer(120, 0.1, 0.2, seed=11)
    new, old = cer_stats(new_edits, lengths), cer_stats(old_edits, lengths)
    order = np.random.default_rng(0).permutation(120)
    shuffled = ExampleStats.from_rows(
        "cer",
        "ratio",
        old.columns,
        old.values[order],
        [old.keys[i] for i in order],
        [old.languages[i] for i in order],
        "lower",
    )
    assert paired_bootstrap(new, shuffled) == paired_bootstrap(new, old)


def test_compare_models_reports_every_metric_and_language_as_json():
    new_correct, old_correct = paired_accuracy(300, 0.9, 0.6, seed=12)
    new_edits, _, lengths = paired_cer(300, 0.2, 0.2, seed=13)
    new = {"intent_accuracy": accuracy_stats(new_correct), "cer": cer_stats(new_edits, lengths)}
    old = {"intent_accuracy": accuracy_stats(old_correct), "cer": cer_stats(new_edits, lengths)}
    old["slot_f1"] = ExampleStats.from_rows(
        "slot_f1",
        "f1",
        ("tp", "fp", "fn"),
        np.ones((300, 3)),
        new["cer"].keys,
        new["cer"].languages,
        "higher",
    )
    report = compare_models(new, old, resamples=500)
    assert json.loads(json.dumps(report)) == report
    assert set(report["results"]) == {"intent_accuracy", "cer"}
    assert set(report["results"]["cer"]) == {"all", "en", "ru"}
    assert "intent_accuracy[all]" in report["better"] and report["worse"] == []
    assert report["results"]["cer"]["all"]["verdict"] == "no_difference"
    assert report["missing"] == {"new": ["slot_f1"], "champion": []}
    only_ru = compare_models(new, old, metrics=["cer"], languages=["ru", "de"], resamples=100)
    assert list(only_ru["results"]) == ["cer"] and list(only_ru["results"]["cer"]) == ["ru"]


# --------------------------------------------------------------------------- aggregates


def test_vectorized_aggregates_equal_one_sum_vector_at_a_time():
    rng = np.random.default_rng(14)
    sums = {
        "ratio": rng.integers(0, 50, (64, 2)),
        "f1": rng.integers(0, 5, (64, 3)),
        "macro_f1": rng.integers(0, 4, (64, 12)),
        "bleu": np.hstack(
            [
                rng.integers(0, 30, (64, 4)),
                rng.integers(30, 40, (64, 4)),
                rng.integers(0, 50, (64, 2)),
            ]
        ),
        "rate_ratio": rng.integers(0, 20, (64, 3)),
    }
    assert set(sums) == set(AGGREGATES)
    for kind, matrix in sums.items():
        together = aggregate(kind, matrix.astype(float))
        one_by_one = [aggregate(kind, row.astype(float)) for row in matrix]
        assert all(isinstance(v, float) for v in one_by_one)
        np.testing.assert_allclose(together, one_by_one, rtol=1e-12, atol=1e-15, err_msg=kind)


def test_aggregates_on_known_sums():
    assert aggregate("ratio", np.array([3.0, 4.0])) == 0.75
    assert aggregate("ratio", np.array([0.0, 0.0])) == 0.0
    assert aggregate("f1", np.array([2.0, 1.0, 1.0])) == pytest.approx(4 / 6)
    assert aggregate("f1", np.array([0.0, 0.0, 0.0])) == 1.0  # nothing to find, none found
    # class a: F1 2/3, class b: 0, class c unseen
    assert aggregate("macro_f1", np.array([1.0, 1, 0, 0, 0, 1, 0, 0, 0])) == pytest.approx(1 / 3)
    perfect = np.array([4.0, 3, 2, 1, 4, 3, 2, 1, 4, 4])
    assert aggregate("bleu", perfect) == 1.0
    assert aggregate("bleu", np.array([4.0, 3, 2, 0, 4, 3, 2, 1, 4, 4])) == 0.0
    short = np.array([2.0, 1, 0.5, 0.25, 2, 1, 0.5, 0.25, 2, 4])  # precisions 1, half the length
    assert aggregate("bleu", short) == pytest.approx(np.exp(1 - 4 / 2))
    assert aggregate("rate_ratio", np.array([2.0, 1.0, 10.0])) == pytest.approx(2.0)
    assert aggregate("rate_ratio", np.array([1.0, 0.0, 10.0])) == pytest.approx(0.1 / 1e-3)
    with pytest.raises(ValueError, match="unknown aggregate"):
        aggregate("median", np.zeros(2))


def test_example_stats_validate_and_round_trip_through_json():
    stats = accuracy_stats(np.array([1.0, 0.0, 1.0]))
    assert ExampleStats.from_dict(json.loads(json.dumps(stats.to_dict()))).to_dict() == (
        stats.to_dict()
    )
    assert stats.value() == pytest.approx(2 / 3) and stats.value("en") == 1.0
    with pytest.raises(ValueError, match="not unique"):
        ExampleStats.from_rows(
            "m", "ratio", ("a", "b"), np.ones((2, 2)), ["k", "k"], ["ru", "ru"], "higher"
        )
    with pytest.raises(ValueError, match="3 rows of values, 2 keys"):
        ExampleStats.from_rows(
            "m", "ratio", ("a", "b"), np.ones((3, 2)), ["a", "b"], ["ru", "ru", "en"], "higher"
        )
