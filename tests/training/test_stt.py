# ruff: noqa: RUF001 (Russian text uses Cyrillic letters on purpose)
"""STT family: text normalization, features, resampling, metrics, tiny training, SavedModel."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from tests.training.stt_process import transcribe_in_fresh_process
from training.stt.config import STTConfig
from training.stt.data import prepare, to_model_rate
from training.stt.decode import greedy_decode
from training.stt.evaluate import cer, edit_distance, evaluate_exported, scores, wer
from training.stt.export import load, transcribe
from training.stt.features import FRAME_STEP, MODEL_RATE, features
from training.stt.model import build_model, ctc_loss, output_lengths
from training.stt.synthetic import synthetic_rows
from training.stt.text import ALPHABET, encode, normalize
from training.stt.train import train


@pytest.fixture(scope="module")
def rows(tmp_path_factory) -> list[dict]:
    cache = tmp_path_factory.mktemp("stt_audio")
    return synthetic_rows(12, seed=1, real=2, cache=cache)


@pytest.fixture(scope="module")
def trained(rows, tmp_path_factory):
    return train(rows, STTConfig.tiny(), tmp_path_factory.mktemp("stt_run"))


def _tone(rate: int, seconds: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1250 * t)).astype(
        np.float32
    )


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Перевод на 127 тысяч рублей.", "ru", "перевод на сто двадцать семь тысяч рублей"),
        ("кредит на 500 000 рублей", "ru", "кредит на пятьсот ноль ноль ноль рублей"),
        ("Карта 2834, пин-код, ёлка", "ru",
         "карта две тысячи восемьсот тридцать четыре пин код елка"),
        ("карта 0456", "ru", "карта ноль четыре пять шесть"),
        ("Send $300 to card 6390!", "en", "send dollar three hundred to card six thousand three "
         "hundred and ninety"),
        ("On the 21st of December, 1,200 euros", "en",
         "on the twenty first of december one thousand two hundred euros"),
        ("It hasn't arrived — \"why\"?", "en", "it hasn't arrived why"),
    ],
)  # fmt: skip
def test_normalize_spells_numbers_as_said_and_keeps_the_alphabet(text, language, expected):
    assert normalize(text, language) == expected
    assert set(expected) <= set(ALPHABET)
    assert len(encode(expected)) == len(expected) and 0 not in encode(expected)


# --------------------------------------------------------------------------- features


def test_feature_shapes_and_frame_counts():
    waves = np.zeros((2, 8000), np.float32)
    waves[0] = _tone(8000, 1.0)
    waves[1, :4000] = _tone(8000, 0.5)
    feats, frames = features(waves, np.array([8000, 4000], np.int32), MODEL_RATE, 24)
    assert feats.shape == (2, 8000 // FRAME_STEP, 24)
    assert frames.numpy().tolist() == [100, 50]
    assert np.all(feats.numpy()[1, 50:] == 0.0)  # padded frames are zeroed
    valid = feats.numpy()[0]
    assert abs(valid.mean()) < 1e-3 and abs(valid.std() - 1.0) < 0.05  # per-utterance CMVN


def test_16k_and_8k_inputs_give_features_at_the_same_rate():
    f8, n8 = features(_tone(8000, 1.5)[None], np.array([12000], np.int32), 8000, 32)
    f16, n16 = features(_tone(16000, 1.5)[None], np.array([24000], np.int32), 16000, 32)
    f44, n44 = features(_tone(44100, 1.5)[None], np.array([66150], np.int32), 44100, 32)
    assert n8.numpy()[0] == n16.numpy()[0] == n44.numpy()[0] == 150
    assert f8.shape == f16.shape == f44.shape
    assert np.abs(f8.numpy() - f16.numpy()).max() < 0.05
    assert np.allclose(to_model_rate(_tone(16000, 1.0), 16000), _tone(8000, 1.0), atol=1e-3)


# --------------------------------------------------------------------------- metrics


def test_edit_distance_cer_and_wer_on_known_cases():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance([], ["a"]) == 1
    assert cer(["abcd"], ["abxd"]) == 0.25
    assert cer(["ab", "cd"], ["ab", ""]) == 0.5  # corpus level: 2 edits / 4 chars
    assert wer(["мой баланс карты"], ["мой балан карты"]) == pytest.approx(1 / 3)
    assert wer(["one two"], ["one two three"]) == 0.5
    result = scores(["да", "yes no"], ["да", "yes"], ["ru", "en"])
    assert result["ru"] == {"cer": 0.0, "wer": 0.0, "n": 1.0}
    assert result["en"]["wer"] == 0.5 and result["all"]["n"] == 2.0


def test_greedy_decode_merges_repeats_and_drops_blanks():
    a, space, be, x = (1 + ALPHABET.index(c) for c in "a бx")
    ids = [[a, a, 0, a, space, be, 0, x]]
    logits = tf.one_hot(ids, len(ALPHABET) + 1) * 5.0
    out = greedy_decode(logits, tf.constant([7]))  # the last step ("x") is padding
    assert out.numpy()[0].decode() == "aa б"


# --------------------------------------------------------------------------- data


def test_ctc_loss_on_the_cpu_kernel_equals_the_dense_formulation():
    rng = np.random.default_rng(0)
    logits = tf.constant(rng.normal(size=(3, 40, len(ALPHABET) + 1)), tf.float32)
    labels = tf.constant([[5, 6, 6, 7, 0, 0], [1, 2, 3, 4, 5, 9], [9, 9, 0, 0, 0, 0]])
    targets = {"labels": labels, "label_lengths": tf.constant([4, 6, 2])}
    frames = tf.constant([160, 120, 80])
    dense = tf.nn.ctc_loss(
        labels,
        logits,
        targets["label_lengths"],
        output_lengths(frames, 4),
        logits_time_major=False,
        blank_index=0,
    )
    assert float(ctc_loss(logits, frames, targets, 4)) == pytest.approx(
        float(tf.reduce_mean(dense)), rel=1e-5
    )


@pytest.mark.parametrize(
    "overrides",
    [{}, {"attention_layers": 1, "attention_heads": 2, "rnn_units": 8}],
    ids=["conv", "conv+attention+rnn"],
)
def test_padding_in_a_batch_does_not_change_an_utterances_logits(overrides):
    config = STTConfig.tiny(**overrides)
    model = build_model(config)
    feats = np.random.default_rng(1).normal(size=(2, 50, config.n_mels)).astype(np.float32)
    feats[1, 30:] = 0.0  # what log_mel leaves after an utterance's last frame
    batch = model({"features": feats, "frames": np.array([50, 30])})
    alone = model({"features": feats[1:, :30], "frames": np.array([30])})
    steps = int(output_lengths(tf.constant(30), config.time_stride))
    np.testing.assert_allclose(batch[1, :steps], alone[0], atol=1e-4)


def test_redacted_rows_are_left_out_of_every_split(rows):
    redacted = [r for r in rows if r["transcript_was_redacted"]]
    assert redacted and all("<PERSON>" in r["transcript"] for r in redacted)
    for split in {r["split"] for r in rows}:
        split_rows = [r for r in rows if r["split"] == split]
        data = prepare(split_rows)
        kept = len(split_rows) - sum(r["transcript_was_redacted"] for r in split_rows)
        assert len(data.references) == kept
        # the kept rows carry no placeholder ("person" itself is a word callers say)
        assert not any(
            "<PERSON>" in r["transcript"] for r in split_rows if not r["transcript_was_redacted"]
        )
    assert {r["split"] for r in rows} == {
        "train",
        "validation",
        "test",
        "test_channel",
        "test_real",
    }
    real = [r for r in rows if r["is_real_speech"]]
    assert {r["split"] for r in real} == {"train", "validation", "test_real"}
    train_texts = {r["transcript"] for r in rows if r["split"] == "train"}
    assert not train_texts & {r["transcript"] for r in rows if r["split"] == "test"}


# --------------------------------------------------------------------------- training


def test_tiny_training_reports_every_split_per_language(trained, rows):
    assert trained.history["loss"] and len(trained.history["loss"]) == trained.epochs_run
    assert min(trained.history["loss"][1:]) < trained.history["loss"][0]  # it learns
    assert trained.params > 0 and trained.seconds > 0
    scored = {r["split"] for r in rows if not r["transcript_was_redacted"]} - {"train"}
    assert {"validation", "test", "test_real"} <= scored
    assert set(trained.metrics) == scored  # every split with a row to score (redacted: none)
    for split, langs in trained.metrics.items():
        assert "all" in langs and set(langs) <= {"all", "ru", "en"}, split
        for values in langs.values():
            assert min(values["cer"], values["wer"]) >= 0.0 and values["n"] >= 1
    assert set(trained.metrics["test"]) == {"all", "ru", "en"}
    assert (trained.model_path / "saved_model.pb").is_file()


def test_export_reloads_in_a_fresh_process_with_the_same_transcripts(trained, rows, tmp_path):
    test_rows = [r for r in rows if r["split"] in ("test", "test_real")]
    waves = [to_model_rate(r["audio"], r["audio_rate"]) for r in test_rows]
    expected = transcribe(trained.serving, waves, MODEL_RATE)
    texts, _ = transcribe_in_fresh_process(trained.model_path, waves, tmp_path)
    assert texts == expected
    loaded = load(trained.model_path)
    signature = loaded.signatures["serving_default"]
    batch = np.zeros((2, 16000), np.float32)
    batch[0] = _tone(16000, 1.0)
    result = signature(
        waveforms=tf.constant(batch),
        lengths=tf.constant([16000, 8000], tf.int32),
        sample_rate=tf.constant(16000, tf.int32),
    )
    assert result["texts"].shape == (2,) and result["texts"].dtype == tf.string


def test_evaluate_exported_returns_the_contract_shape(trained, rows):
    test_rows = [r for r in rows if r["split"] == "test"]
    result = evaluate_exported(trained.model_path, test_rows)
    assert set(result) == {"all", "ru", "en"}
    for values in result.values():
        assert set(values) == {"cer", "wer", "n", "language_confusion"}
        assert all(isinstance(v, float) for v in values.values())
    assert result["all"] == pytest.approx(trained.metrics["test"]["all"])


def test_the_decoder_grid_reproduces_the_served_figure_per_group(trained, rows):
    from training.stt.data import prepare
    from training.stt.decode import greedy_decode
    from training.stt.decoder_grid import markdown, row_groups
    from training.stt.lm import fit_char_lm
    from training.stt.tune import decoder_cers, grid_decoders

    test_rows = [r for r in rows if r["split"] == "test"]
    data = prepare(test_rows)
    groups = row_groups(test_rows, data, "engine")
    assert sorted(i for members in groups.values() for i in members) == list(range(len(data.keys)))
    assert all(name.split()[-1] in ("ru", "en") for name in groups)
    config = trained.config
    train_refs = prepare([r for r in rows if r["split"] == "train"]).references
    lm = fit_char_lm(train_refs, config.lm_order, config.lm_min_count)
    decoders = {"greedy": greedy_decode} | {
        name: decode for name, (decode, _) in grid_decoders(lm, config).items()
    }
    table = decoder_cers(load(trained.model_path), data, groups, decoders)
    assert set(table) == {"greedy", "lm_weight=0.5 char_bonus=1.0"}
    # the served model decodes with one of them: its test CER is that decoder's row
    served = trained.metrics["test"]["all"]["cer"]
    assert min(abs(cells["all"] - served) for cells in table.values()) < 1e-6, (table, served)
    assert markdown(table, groups).count("\n") == len(table) + 1
    # grid values written as integers (``--set 'char_bonuses=[2]'``) decode as floats
    whole = dataclasses.replace(config, lm_weights=(1,), char_bonuses=(2,))
    ((decode, _),) = grid_decoders(lm, whole).values()
    assert set(decoder_cers(load(trained.model_path), data, groups, {"w": decode})) == {"w"}
