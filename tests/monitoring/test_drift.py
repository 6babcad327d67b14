"""Drift scores against values computed by hand, on planted distributions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from monitoring.drift import (
    THRESHOLDS,
    DriftScore,
    binned,
    binned_psi,
    feature_scores,
    ks,
    psi,
)
from monitoring.drift_inputs import (
    AUDIO_DURATION,
    CONFIDENCE,
    FEATURES,
    INTENTS,
    LANGUAGE_MIX,
    SAMPLE_RATE,
    TRANSCRIPT_LENGTH,
    Champion,
    with_transcript_length,
)
from monitoring.drift_report import DriftReport, family_drift


def rows(language: str, intents: dict[str, int]) -> list[dict]:
    return [
        {"language": language, "intent": intent}
        for intent, count in intents.items()
        for _ in range(count)
    ]


def test_thresholds_are_the_alert_rules():
    import re
    from pathlib import Path

    import yaml

    rules = Path(__file__).resolve().parents[2] / "monitoring/prometheus/rules/pipeline.yml"
    groups = yaml.safe_load(rules.read_text())["groups"]
    expr = next(
        rule["expr"]
        for group in groups
        for rule in group["rules"]
        if rule.get("alert") == "VoiceOpsDataDrift"
    )
    in_rule = {m: float(v) for m, v in re.findall(r'method="(\w+)"\} > ([\d.]+)', expr)}
    assert THRESHOLDS == in_rule == {"psi": 0.25, "ks": 0.2, "novelty": 0.25}


def test_psi_of_a_shifted_mix_is_the_hand_computed_value():
    # 50/50 -> 80/20: 0.3 ln(0.8/0.5) + (-0.3) ln(0.2/0.5)
    expected = 0.3 * math.log(1.6) - 0.3 * math.log(0.4)
    assert psi(["a"] * 50 + ["b"] * 50, ["a"] * 80 + ["b"] * 20) == pytest.approx(expected)
    assert expected == pytest.approx(0.4159, abs=1e-4) and expected > THRESHOLDS["psi"]


def test_psi_of_identical_and_slightly_shifted_mixes_stays_under_the_threshold():
    same = ["a"] * 30 + ["b"] * 70
    assert psi(same, list(reversed(same))) == 0.0
    small = 0.05 * math.log(1.1) - 0.05 * math.log(0.9)  # 50/50 -> 55/45: 0.0100
    assert psi(["a"] * 50 + ["b"] * 50, ["a"] * 55 + ["b"] * 45) == pytest.approx(small)
    assert small < THRESHOLDS["psi"]


def test_psi_gives_an_unseen_category_a_small_share_instead_of_infinity():
    expected = (0.5 - 1) * math.log(0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    assert psi(["a"] * 100, ["a"] * 50 + ["b"] * 50) == pytest.approx(expected)


def test_ks_is_the_largest_gap_between_the_empirical_cdfs():
    # at 2: reference 2/4 below or at, production 0/4
    assert ks([1, 2, 3, 4], [3, 4, 5, 6]) == pytest.approx(0.5)
    assert ks([1, 2, 3, 4], [1, 2, 3, 4]) == 0.0


def test_binned_psi_counts_quantile_bins_of_the_reference():
    assert binned([0.1, 0.5, 0.9], [0.5]) == [0, 1, 1]
    rng = np.random.default_rng(7)
    reference = rng.normal(0, 1, 2000)
    assert binned_psi(reference, reference) == 0.0
    assert binned_psi(reference, rng.normal(0, 1, 2000)) < 0.05
    assert binned_psi(reference, rng.normal(1, 1, 2000)) > THRESHOLDS["psi"]


def test_a_shifted_intent_mix_drifts_in_its_language_only():
    reference = rows("ru", {"block_card": 50, "check_balance": 50}) + rows(
        "en", {"block_card": 50, "check_balance": 50}
    )
    production = rows("ru", {"block_card": 80, "check_balance": 20}) + rows(
        "en", {"block_card": 25, "check_balance": 25}
    )
    scores = {s.language: s for s in feature_scores("nlu", INTENTS, reference, production)}
    assert scores["ru"].score == pytest.approx(0.415888, abs=1e-6) and scores["ru"].drifted
    assert scores["en"].score == 0.0 and not scores["en"].drifted
    assert (scores["ru"].reference_count, scores["ru"].production_count) == (100, 100)


def test_a_shifted_language_mix_drifts_and_an_identical_one_does_not():
    reference = rows("ru", {"x": 50}) + rows("en", {"x": 50})
    shifted = rows("ru", {"x": 90}) + rows("en", {"x": 10})
    (score,) = feature_scores("stt", LANGUAGE_MIX, reference, shifted)
    expected = 0.4 * math.log(1.8) - 0.4 * math.log(0.2)  # 0.8789
    assert score.language == "all" and score.score == pytest.approx(expected, abs=1e-6)
    assert score.drifted
    (same,) = feature_scores("stt", LANGUAGE_MIX, reference, list(reference))
    assert same.score == 0.0 and not same.drifted


def test_too_few_production_values_give_no_score():
    reference = rows("ru", {"a": 100})
    assert feature_scores("nlu", INTENTS, reference, rows("ru", {"b": 49})) == []
    assert len(feature_scores("nlu", INTENTS, reference, rows("ru", {"b": 5}), min_values=5)) == 1


def test_confidence_is_compared_with_the_turns_the_champion_served_before():
    champion = Champion("nlu", "3", "c" * 64, 0.0)
    rng = np.random.default_rng(1)

    def turns(values, version="3"):
        return [
            {"language": "en", "intent": "x", "confidence": float(v), "versions": {"nlu": version}}
            for v in values
        ]

    earlier = turns(rng.uniform(0.6, 1.0, 200)) + turns(rng.uniform(0, 0.2, 500), version="2")
    recent = turns(rng.uniform(0.3, 0.7, 200))
    scores = family_drift(champion, rows("en", {"x": 100}), recent, earlier)
    confidence = {s.method: s for s in scores if s.feature == "confidence"}
    assert confidence["ks"].reference == "production" and confidence["ks"].drifted
    assert confidence["ks"].reference_count == 200  # version 2's turns are not the reference
    intents = [s for s in scores if s.feature == "intent"]
    assert intents and not any(s.drifted for s in intents)


def test_a_report_round_trips_through_json():
    score = DriftScore("nlu", "intent", "ru", "psi", 0.4, 100, 100)
    report = DriftReport(1.0, "2026-01-01T00:00:00+00:00", 100, {"nlu": {"version": "1"}}, [score])
    again = DriftReport.from_dict(report.to_dict())
    assert again.scores == [score] and again.drifted_families() == ["nlu"]
    assert report.to_dict()["scores"][0] | {} == score.to_dict()
    assert score.to_dict()["threshold"] == 0.25 and score.to_dict()["drifted"] is True
    assert CONFIDENCE.reference == "production"


def test_stt_compares_duration_sample_rate_and_transcript_length_per_language():
    assert FEATURES["stt"] == (LANGUAGE_MIX, AUDIO_DURATION, SAMPLE_RATE, TRANSCRIPT_LENGTH)
    assert (AUDIO_DURATION.kind, SAMPLE_RATE.kind, TRANSCRIPT_LENGTH.kind) == (
        "continuous",
        "categorical",
        "continuous",
    )
    rng = np.random.default_rng(3)
    training = with_transcript_length(
        [
            {"language": language, "duration_s": d, "sample_rate": 8000, "transcript": "x" * n}
            for language in ("ru", "en")
            for d, n in zip(rng.uniform(1, 4, 200), rng.integers(10, 60, 200), strict=True)
        ]
    )
    assert training[0]["transcript_length"] == len(training[0]["transcript"])

    def turn(language, duration, rate, length):
        return {
            "language": language,
            "duration_s": duration,
            "sample_rate": rate,
            "transcript_length": length,
            "versions": {"stt": "1"},
        }

    # Russian callers now come over 16 kHz, with long silent uploads and empty transcripts;
    # English ones look like the training data (text turns carry no audio: skipped)
    recent = [turn("ru", float(d), 16000, 0) for d in rng.uniform(8, 12, 100)]
    recent += [
        turn("en", float(d), 8000, int(n))
        for d, n in zip(rng.uniform(1, 4, 100), rng.integers(10, 60, 100), strict=True)
    ]
    recent += [turn("en", None, None, None)] * 30
    scores = {
        (s.feature, s.language, s.method): s
        for s in family_drift(Champion("stt", "1", "c" * 64, 0.0), training, recent, [])
    }
    for feature in ("duration_s", "transcript_length"):
        assert scores[feature, "ru", "ks"].score == 1.0 and scores[feature, "ru", "ks"].drifted
        assert not scores[feature, "en", "ks"].drifted, scores[feature, "en", "ks"]
        assert scores[feature, "en", "ks"].production_count == 100
    assert scores["sample_rate", "ru", "psi"].drifted
    assert scores["sample_rate", "en", "psi"].score == 0.0
    assert ("sample_rate", "ru", "ks") not in scores  # categorical: PSI only


def test_production_turns_read_the_stt_inputs_of_audio_turns_from_the_event_store(tmp_path):
    from datetime import UTC, datetime, timedelta

    from core.settings import Settings
    from experiments.event_store import EventStore
    from experiments.events import Event
    from monitoring.drift_inputs import production_turns

    settings = Settings(home=tmp_path)
    common = {"user_id": "u", "session_id": "s", "language": "ru", "intent": "block_card"}
    audio = Event(
        **common,
        input_kind="audio",
        audio_duration_s=2.5,
        audio_sample_rate=16000,
        transcript_length=17,
    )
    typed = Event(**common, input_kind="text", transcript_length=12)
    failed = Event(**common, input_kind="audio", audio_duration_s=1.0, error="boom")
    with EventStore.from_settings(settings) as store:
        store.write([audio, typed, failed])
    rows = production_turns(settings, datetime.now(UTC) - timedelta(hours=1))
    stt = sorted(
        ((row["duration_s"], row["sample_rate"], row["transcript_length"]) for row in rows),
        key=str,
    )
    # the failed turn is left out; the typed one went through no STT
    assert stt == [(2.5, 16000, 17), (None, None, None)]
    assert {type(row["sample_rate"]) for row in rows} == {int, type(None)}
