"""Per-example stats of tiny real models aggregate to exactly each family's own metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.compare import compare_models, paired_bootstrap
from training.common.example_stats import ExampleStats, scores_of

LANGUAGES = ("all", "ru", "en")


def assert_same_figures(stats: dict[str, ExampleStats], scores: dict, metrics: list[str]):
    """Every metric per language from the stats equals the family's figure (to the last bit)."""
    for metric in metrics:
        for language in LANGUAGES:
            expected = scores[language][metric]
            assert stats[metric].value(language) == expected, (metric, language)


def assert_keyed_by(stats: ExampleStats, rows: list[dict], column: str) -> None:
    ids = {str(row[column]) for row in rows}
    assert set(stats.keys) <= ids and len(stats.keys) == len(set(stats.keys))
    language = {str(row[column]): row["language"] for row in rows}
    assert all(language[k] == lang for k, lang in zip(stats.keys, stats.languages, strict=True))


# --------------------------------------------------------------------------- STT


@pytest.fixture(scope="module")
def stt(tmp_path_factory) -> tuple[Path, list[dict], dict]:
    """A tiny STT model (greedy + LM decoder as trained), its rows and training scores."""
    from training.stt.config import STTConfig
    from training.stt.synthetic import synthetic_rows
    from training.stt.train import train

    rows = synthetic_rows(8, seed=1, real=2, cache=tmp_path_factory.mktemp("stt_audio"))
    result = train(rows, STTConfig.tiny(epochs=2), tmp_path_factory.mktemp("stt_run"))
    return result.model_path, rows, result.metrics


def test_stt_cer_and_wer_per_utterance_add_up_to_the_corpus_figures(stt):
    from training.stt.evaluate import evaluate_exported, example_stats

    model_path, rows, _ = stt
    test_rows = [row for row in rows if row["split"] in ("test", "test_real")]
    test_rows[0] = dict(test_rows[0], transcript_was_redacted=True)  # prepare leaves it out
    stats = example_stats(model_path, test_rows)
    assert set(stats) == {"cer", "wer"}
    assert test_rows[0]["call_id"] not in stats["cer"].keys
    assert len(stats["cer"]) == len(test_rows) - 1
    assert_keyed_by(stats["cer"], test_rows, "call_id")
    assert stats["cer"].direction == "lower" and stats["cer"].kind == "ratio"
    assert_same_figures(stats, evaluate_exported(model_path, test_rows), ["cer", "wer"])
    assert scores_of(stats)["all"] == {"cer": stats["cer"].value(), "wer": stats["wer"].value()}


# --------------------------------------------------------------------------- TTS


@pytest.fixture(scope="module")
def tts(tmp_path_factory) -> tuple[Path, list[dict]]:
    from training.tts.config import TTSConfig
    from training.tts.export import export
    from training.tts.synthetic import synthetic_rows
    from training.tts.train import train

    rows = synthetic_rows(8, tmp_path_factory.mktemp("tts_audio"), seed=3)
    run_dir = tmp_path_factory.mktemp("tts_run")
    result = train(rows, TTSConfig.tiny(), run_dir)
    return export(result.serving, run_dir / "model"), rows


def test_tts_stats_add_up_to_its_metrics_with_the_stt_models_round_trip(tts, stt):
    from training.tts.evaluate import evaluate_exported, example_stats

    model_path, rows = tts
    stt_path = stt[0]
    # rows not trained on, in both languages (a few rows per language: the test split alone
    # may hold one language only)
    test_rows = [row for row in rows if row["split"] != "train"]
    assert {row["language"] for row in test_rows} == {"ru", "en"}
    test_rows[0] = dict(test_rows[0], is_real_speech=True)  # scored apart from the ratio
    stats = example_stats(model_path, test_rows, stt_model=stt_path)
    metrics = ["mel_l1", "duration_mae", "duration_error", "cer_ratio"]
    assert set(stats) == set(metrics)
    assert test_rows[0]["call_id"] not in stats["cer_ratio"].keys
    assert len(stats["cer_ratio"]) == len(test_rows) - 1
    assert stats["cer_ratio"].meta["stt_model"] == str(Path(stt_path).resolve())
    for one in stats.values():
        assert_keyed_by(one, test_rows, "call_id")
        assert one.direction == "lower"
    scores = evaluate_exported(model_path, test_rows, stt_model=stt_path)
    assert_same_figures(stats, scores, metrics)
    without_stt = example_stats(model_path, test_rows)
    assert set(without_stt) == set(metrics) - {"cer_ratio"}
    assert paired_bootstrap(stats["mel_l1"], without_stt["mel_l1"]).verdict == "no_difference"


# --------------------------------------------------------------------------- NLU


def _train_nlu(rows: list[dict], run_dir: Path, **overrides) -> tuple[Path, dict]:
    from training.nlu.config import NLUConfig
    from training.nlu.export import export
    from training.nlu.train import train

    result = train(rows, NLUConfig.tiny(**overrides), run_dir)
    return export(result.serving, run_dir / "saved_model"), result.metrics


@pytest.fixture(scope="module")
def nlu_rows() -> list[dict]:
    from training.nlu.synthetic import synthetic_rows

    return synthetic_rows(8, seed=3)


@pytest.fixture(scope="module")
def nlu(nlu_rows, tmp_path_factory) -> tuple[Path, dict]:
    # 20 epochs: the tiny model's training accuracy leaves chance (1/18) after ~12
    return _train_nlu(nlu_rows, tmp_path_factory.mktemp("nlu_run"), epochs=20)


def test_nlu_stats_add_up_to_its_metrics_and_the_unseen_phrasing_subset(nlu, nlu_rows):
    from training.common.scores import flat_metrics
    from training.nlu.evaluate import evaluate_exported, example_stats
    from training.nlu.phrasing import UNSEEN_SPLIT

    model_path, metrics = nlu
    train_rows = [row for row in nlu_rows if row["split"] == "train"]
    test_rows = [row for row in nlu_rows if row["split"] == "test"]
    stats = example_stats(model_path, test_rows, train_rows=train_rows)
    gated = ["intent_accuracy", "intent_macro_f1", "slot_f1"]
    assert set(stats) == {*gated, "unseen_phrasing_intent_accuracy"}
    assert_keyed_by(stats["slot_f1"], test_rows, "example_id")
    assert_same_figures(stats, evaluate_exported(model_path, test_rows), gated)
    # the subset training scores as its own split, from the in-process model's predictions
    unseen = stats["unseen_phrasing_intent_accuracy"]
    for language in LANGUAGES:
        in_training = flat_metrics(metrics[UNSEEN_SPLIT][language])["intent_accuracy"]
        assert unseen.value(language) == pytest.approx(in_training, abs=1e-12)
    # a training row with a test row's phrasing (other slot values) takes that row out
    seen = example_stats(model_path, test_rows, train_rows=[*train_rows, test_rows[0]])
    assert set(seen["unseen_phrasing_intent_accuracy"].keys) == set(unseen.keys) - {
        test_rows[0]["example_id"]
    }
    assert "unseen_phrasing_intent_accuracy" not in example_stats(model_path, test_rows)


def test_a_trained_nlu_model_beats_an_untrained_one_on_the_same_rows(nlu, nlu_rows, tmp_path):
    from training.nlu.evaluate import example_stats

    untrained, _ = _train_nlu(nlu_rows, tmp_path, epochs=1, learning_rate=0.0)
    # the tiny model is near chance on unseen phrasings, not on the phrasings it learnt
    rows = [row for row in nlu_rows if row["split"] == "train"]
    good = example_stats(nlu[0], rows)
    bad = example_stats(untrained, list(reversed(rows)))  # paired by key, not by order
    assert paired_bootstrap(good["intent_accuracy"], bad["intent_accuracy"]).verdict == "better"
    assert paired_bootstrap(good["slot_f1"], good["slot_f1"]).verdict == "no_difference"
    report = compare_models(good, bad, resamples=500)
    assert "intent_accuracy[all]" in report["better"]
    assert set(report["results"]) == {"intent_accuracy", "intent_macro_f1", "slot_f1"}


# --------------------------------------------------------------------------- NLG


@pytest.fixture(scope="module")
def nlg(tmp_path_factory) -> tuple[Path, list[dict], dict]:
    from training.nlg.config import NLGConfig
    from training.nlg.data import synthetic_rows
    from training.nlg.train import train

    intents = ("greeting", "block_card", "exchange_rate", "check_balance")
    rows = synthetic_rows(300, seed=1, intents=intents)
    result = train(rows, NLGConfig.tiny(), tmp_path_factory.mktemp("nlg_run"))
    return result.model_path, rows, result.metrics


def test_nlg_stats_add_up_to_its_bleu_and_shares_with_and_without_the_training_pool(nlg):
    from training.nlg.evaluate import evaluate_exported, example_stats

    model_path, rows, metrics = nlg
    train_rows = [row for row in rows if row["split"] == "train"]
    test_rows = [row for row in rows if row["split"] == "test"]
    gated = ["bleu", "bleu_multi_ref", "exact_match", "slot_value_accuracy"]
    stats = example_stats(model_path, test_rows)
    assert set(stats) == set(gated)
    assert stats["bleu_multi_ref"].kind == "bleu" and len(stats["bleu"].columns) == 10
    assert_keyed_by(stats["bleu"], test_rows, "example_id")
    assert_same_figures(stats, evaluate_exported(model_path, test_rows), gated)
    # with training's pool of references: the figures training recorded (in-process model)
    pooled = example_stats(model_path, test_rows, pool_rows=train_rows)
    for language in LANGUAGES:
        recorded = metrics["test"][language]["bleu_multi_ref"]
        assert pooled["bleu_multi_ref"].value(language) == pytest.approx(recorded, abs=1e-12)
    with pytest.raises(ValueError, match="bleu_multi_ref: the two models were measured"):
        paired_bootstrap(pooled["bleu_multi_ref"], stats["bleu_multi_ref"])
