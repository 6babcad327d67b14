"""The analysis: SRM stops it, the tests match hand computations, the always-valid p-value
survives peeking, the report and the figure are written."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from core.errors import InputError
from experiments.analysis import SampleRatioMismatch, analyze
from experiments.assignment import Assigner
from experiments.metrics import per_user
from experiments.plots import draw_analysis
from experiments.power import calls_to_show_within, sample_size_per_arm
from experiments.spec import parse_spec
from experiments.stats import msprt, srm_test, two_proportion_z, welch_t
from tests.experiments.planted import Arm, planted_events


def spec(**overrides):
    data = {
        "key": "ab",
        "arms": {"control": {"nlu": 1}, "treatment": {"nlu": 2}},
        "start": "2026-12-07",
        "stop": "2026-12-21",
        "metrics": [
            {"name": "resolution_rate", "better": "higher"},
            {"name": "latency_ms", "better": "lower"},
        ],
        "guardrails": {"latency_p99_ms": 800, "error_rate": 0.01, "handoff_rate": 0.15},
        "min_sample_size": 1000,
    }
    return parse_spec(data | overrides, "test")


def test_srm_detected_on_a_planted_imbalance() -> None:
    events = planted_events("ab", {"control": Arm(5000), "treatment": Arm(4600)})
    with pytest.raises(SampleRatioMismatch) as caught:
        analyze(spec(), events)
    message = str(caught.value)
    assert "sample ratio mismatch" in message
    assert "control 5000 users (52.08%, expected 50.00%)" in message
    assert "treatment 4600 users" in message
    assert caught.value.srm.p_value < 0.001


def test_no_srm_false_alarm_on_hashed_assignment() -> None:
    """Users hashed into 30/70 arms by the real assigner pass the check."""
    ab = spec(weights={"control": 0.3, "treatment": 0.7})
    assigner = Assigner(ab)
    counts = {"control": 0, "treatment": 0}
    for i in range(20000):
        counts[assigner.assign(f"caller-{i}").arm] += 1  # type: ignore[index]
    assert srm_test(counts, ab.weights).p_value > 0.001
    assert srm_test({"a": 10, "b": 5}, {"a": 1.0, "b": 0.0}).p_value == 0.0


def test_two_proportion_z_by_hand() -> None:
    control = [1] * 800 + [0] * 200
    treatment = [1] * 840 + [0] * 160
    result = two_proportion_z(control, treatment)
    pooled = 1640 / 2000
    z = 0.04 / math.sqrt(pooled * (1 - pooled) * (2 / 1000))
    assert result.test == "z"
    assert result.difference == pytest.approx(0.04)
    assert result.p_value == pytest.approx(math.erfc(z / math.sqrt(2)))
    se = math.sqrt(0.8 * 0.2 / 1000 + 0.84 * 0.16 / 1000)
    assert result.ci_low == pytest.approx(0.04 - 1.959964 * se, rel=1e-5)
    assert result.ci_high == pytest.approx(0.04 + 1.959964 * se, rel=1e-5)
    assert result.relative_lift == pytest.approx(0.05)


def test_welch_by_hand_and_against_scipy() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(300, 40, 200), rng.normal(310, 80, 150)
    result = welch_t(a, b)
    va, vb = a.var(ddof=1) / 200, b.var(ddof=1) / 150
    df = (va + vb) ** 2 / (va**2 / 199 + vb**2 / 149)
    assert result.p_value == pytest.approx(stats.ttest_ind(b, a, equal_var=False).pvalue)
    half = stats.t.ppf(0.975, df) * math.sqrt(va + vb)
    assert (result.ci_low, result.ci_high) == pytest.approx(
        (b.mean() - a.mean() - half, b.mean() - a.mean() + half)
    )


def test_always_valid_p_value_survives_peeking_on_aa_data() -> None:
    """20 looks at 300 A/A experiments: the naive z-test 'finds' an effect far more often
    than 5 %; the mSPRT p-value, however often one looks, about 5 % or less."""
    rng = np.random.default_rng(7)
    experiments, looks, step = 300, 20, 50
    naive = valid = 0
    for _ in range(experiments):
        a = rng.random(looks * step) < 0.5
        b = rng.random(looks * step) < 0.5
        cohorts = [(a[: k * step], b[: k * step]) for k in range(1, looks + 1)]
        naive += min(two_proportion_z(x, y).p_value for x, y in cohorts) < 0.05
        valid += msprt(cohorts).p_value < 0.05
    assert naive / experiments > 0.15
    assert valid / experiments <= 0.06


def test_always_valid_p_value_finds_a_real_effect() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.random(4000) < 0.80, rng.random(4000) < 0.85
    result = msprt([(a[: k * 400], b[: k * 400]) for k in range(1, 11)])
    assert result.p_value < 0.05 and result.ci_low > 0 and result.looks == 10


def test_analysis_report_and_figure(tmp_path: Path) -> None:
    events = planted_events(
        "ab", {"control": Arm(1500), "treatment": Arm(1500, resolution_rate=0.86)}
    )
    analysis = analyze(spec(sequential=True), events)
    assert analysis.users == {"control": 1500, "treatment": 1500}
    assert analysis.enough_users and not analysis.broken_guardrails
    primary = analysis.comparison("resolution_rate", "treatment")
    assert primary.test.test == "z" and primary.sequential is not None and primary.improved
    assert analysis.comparison("latency_ms", "treatment").test.test == "welch"
    report = analysis.to_markdown()
    assert "| resolution_rate (higher) | treatment |" in report and "z + mSPRT" in report
    figure = draw_analysis(analysis, tmp_path / "analysis.png")
    assert figure.read_bytes().startswith(b"\x89PNG")


def test_guardrails_per_arm() -> None:
    events = planted_events(
        "ab", {"control": Arm(300), "treatment": Arm(300, latency_ms=900, error_rate=0.2)}
    )
    broken = {(g.arm, g.name) for g in analyze(spec(), events).broken_guardrails}
    assert broken == {("treatment", "latency_p99_ms"), ("treatment", "error_rate")}


def test_per_user_reads_the_event_store_frame() -> None:
    """The store's nullable dtypes (string, boolean, NA) give the same per-user rows."""
    event_store = pytest.importorskip("experiments.event_store")
    from experiments.events import COLUMNS

    events = planted_events("ab", {"control": Arm(40), "treatment": Arm(40)}, seed=2)
    records = events.assign(occurred_at=events["occurred_at"].astype(str)).to_dict("records")
    typed = event_store.events_frame([tuple(r.get(c) for c in COLUMNS) for r in records])
    plain, stored = per_user(events), per_user(typed)
    assert len(plain) == 80
    for column in ("turns", "errors", "handoff_rate", "resolution_rate", "latency_ms"):
        assert np.allclose(plain[column], stored[column], equal_nan=True), column


def test_power_matches_the_formula() -> None:
    p1, p2 = 0.5, 0.6
    z_a, z_b = stats.norm.ppf(0.975), stats.norm.ppf(0.8)
    by_hand = (z_a * math.sqrt(2 * 0.55 * 0.45) + z_b * math.sqrt(p1 * 0.5 + p2 * 0.4)) ** 2
    assert sample_size_per_arm(0.5, 0.1) == math.ceil(by_hand / 0.01)
    assert sample_size_per_arm(0.8, 0.02) > sample_size_per_arm(0.8, 0.04)
    with pytest.raises(InputError, match="baseline"):
        sample_size_per_arm(1.2, 0.02)


@pytest.mark.parametrize("sequential", [False, True])
def test_a_margin_is_shown_with_the_planned_power(sequential: bool) -> None:
    """Equal arms of the planned size show non-inferiority in ~80 % of simulated canaries
    (the always-valid interval, with the margin as its mixing scale, needs more users)."""
    from experiments.stats import msprt

    baseline, margin = 0.6, 0.15
    n = calls_to_show_within(baseline, margin, sequential=sequential)
    assert n == (325 if sequential else 168)
    rng = np.random.default_rng(5)
    shown = 0
    for _ in range(400):
        a = (rng.random(n) < baseline).astype(float)
        b = (rng.random(n) < baseline).astype(float)
        if sequential:
            low = msprt([(a, b)], 0.05, tau2=margin**2).ci_low
        else:
            low = (
                b.mean()
                - a.mean()
                - stats.norm.ppf(0.975) * math.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n)
            )
        shown += -low < margin
    assert 0.72 <= shown / 400 <= 0.88
    assert calls_to_show_within(baseline, 0.03) > 30 * calls_to_show_within(baseline, 0.15) / 2
    with pytest.raises(InputError, match="margin"):
        calls_to_show_within(baseline, 1.5)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"metrics": [{"name": "intent_accuracy", "better": "higher"}]}, "unknown metric"),
        ({"metrics": [{"name": "error_rate", "better": "higher"}]}, "better lower"),
        (
            {"rollout": {"steps": [0.1, 0.05], "min_users_per_step": 10}},
            "steps must increase",
        ),
        (
            {"rollout": {"steps": [0.1, 1.0], "min_users_per_step": 10}, "coverage": 0.5},
            "coverage 1",
        ),
        (
            {
                "arms": {"a": {"nlu": 1}, "b": {"nlu": 2}, "c": {"nlu": 3}},
                "rollout": {"steps": [0.1, 1.0], "min_users_per_step": 10},
            },
            "exactly two arms",
        ),
    ],
)
def test_spec_metrics_and_rollout_are_checked(overrides: dict, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        spec(**overrides)


def test_rollout_weights_only_grow_the_candidate() -> None:
    canary = spec(rollout={"steps": [0.01, 0.05, 0.25, 1.0], "min_users_per_step": 10})
    assert canary.weights_at(0) == {"control": 0.99, "treatment": 0.01}
    assert canary.weights_at(3) == {"control": 0.0, "treatment": 1.0}
    users = [f"caller-{i}" for i in range(5000)]
    previous: set[str] = set()
    for stage in range(4):
        staged = canary.model_copy(update={"weights": canary.weights_at(stage)})
        assigner = Assigner(staged)
        now = {u for u in users if assigner.assign(u).arm == "treatment"}
        assert previous <= now
        previous = now
    assert len(previous) == 5000
