"""STT decoding: the character n-gram LM, the CTC prefix beam search, and their export."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import tensorflow as tf

from tests.training.stt_process import transcribe_in_fresh_process
from training.stt.beam import BeamSettings, LMTables, beam_search_decode
from training.stt.config import STTConfig
from training.stt.decode import greedy_decode
from training.stt.export import STTServing, export, load, transcribe
from training.stt.lm import BOS, EOS, OUTPUTS, context_key, fit_char_lm
from training.stt.model import build_model
from training.stt.text import ALPHABET, encode

TEXTS = ["hello world", "hello there", "привет мир", "help me please", "перевод на карту"]
V = len(ALPHABET) + 1  # CTC outputs: blank + characters


def _peaked_logits(text: str, extra_blanks: int = 3) -> np.ndarray:
    """Logits whose greedy path spells ``text`` (each character then a blank)."""
    rng = np.random.default_rng(len(text))
    path = [token for i in encode(text) for token in (i, 0)] + [0] * extra_blanks
    logits = rng.normal(0.0, 0.5, (len(path), V)).astype(np.float32)
    logits[np.arange(len(path)), path] += 8.0
    return logits


def _batch(logit_list: list[np.ndarray]) -> tuple[tf.Tensor, tf.Tensor]:
    frames = max(len(x) for x in logit_list)
    padded = [np.pad(x, [(0, frames - len(x)), (0, 0)]) for x in logit_list]
    return tf.constant(np.stack(padded)), tf.constant([len(x) for x in logit_list], tf.int32)


def _texts(tensor: tf.Tensor) -> list[str]:
    return [t.decode("utf-8") for t in tensor.numpy()]


# --------------------------------------------------------------------------- LM


def test_lm_distributions_are_normalized_and_prefer_seen_text():
    lm = fit_char_lm(TEXTS, order=5)
    assert lm.keys[0] == 0 and np.all(np.diff(lm.keys) > 0)  # sorted, empty context first
    np.testing.assert_allclose(np.exp(lm.log_probs).sum(axis=1), 1.0, rtol=1e-5)
    assert lm.log_probs.shape == (len(lm.keys), OUTPUTS)
    assert lm.sentence_log_prob("hello world") > lm.sentence_log_prob("hellp world") + 5
    assert lm.sentence_log_prob("привет мир") > lm.sentence_log_prob("привет мор") + 5
    assert np.isfinite(lm.sentence_log_prob("zzz qqq"))  # unseen characters keep a probability


def test_lm_counts_sentence_starts_and_ends():
    lm = fit_char_lm(["ab", "ab", "ba"], order=3)
    after_start = np.exp(lm.distribution([BOS]))
    a, b = encode("a")[0] - 1, encode("b")[0] - 1
    assert after_start[a] > after_start[b] > after_start[encode("z")[0] - 1]
    assert np.exp(lm.distribution([BOS, *encode("ab")]))[EOS] > 0.5


def test_unseen_context_falls_back_to_its_longest_seen_suffix():
    lm = fit_char_lm(TEXTS, order=4)
    history = [BOS, *encode("qqel")]  # "qel" was never seen, "el" was
    expected_row = int(np.searchsorted(lm.keys, context_key(encode("el"))))
    np.testing.assert_array_equal(lm.distribution(history), lm.log_probs[expected_row])


def test_min_count_prunes_rare_contexts_and_order_is_checked():
    full, pruned = fit_char_lm(TEXTS, order=6), fit_char_lm(TEXTS, order=6, min_count=2)
    assert len(pruned.keys) < len(full.keys)
    assert pruned.sentence_log_prob("hello world") > pruned.sentence_log_prob("hellp world")
    with pytest.raises(ValueError, match="order"):
        fit_char_lm(TEXTS, order=0)


def test_lm_tables_lookup_equals_the_python_distribution():
    lm = fit_char_lm(TEXTS, order=5)
    tables = LMTables(lm)
    histories = [[BOS], [BOS, *encode("he")], [BOS, *encode("hello w")], [BOS, *encode("при")]]
    histories += [[BOS, *encode("xqz")]]
    padded = [([0] * 4 + h)[-4:] for h in histories]
    got = tables.lookup(tf.constant([padded], tf.int32)).numpy()[0]
    for row, history in zip(got, histories, strict=True):
        np.testing.assert_allclose(row, lm.distribution(history), rtol=1e-6)


# --------------------------------------------------------------------------- beam search


def test_beam_search_without_lm_equals_greedy_on_confident_logits():
    logits, steps = _batch([_peaked_logits(t) for t in TEXTS])
    greedy = _texts(greedy_decode(logits, steps))
    beam = _texts(beam_search_decode(logits, steps, None, BeamSettings(8, 8, 0.0, 0.0)))
    assert beam == greedy == TEXTS


def test_padding_does_not_change_an_utterances_beam_result():
    lm = LMTables(fit_char_lm(TEXTS, order=4))
    settings = BeamSettings(8, 6, 0.5, 1.0)
    short, long = _peaked_logits("help me"), _peaked_logits("перевод на карту", extra_blanks=9)
    alone = _texts(beam_search_decode(*_batch([short]), lm, settings))
    together = _texts(beam_search_decode(*_batch([short, long]), lm, settings))
    assert together[0] == alone[0] == "help me" and together[1] == "перевод на карту"


def test_the_lm_corrects_an_acoustically_ambiguous_character():
    logits = _peaked_logits("hellp world")
    frame_of_p = int(np.argmax(logits[:, encode("p")[0]]))
    logits[frame_of_p, encode("o")[0]] = logits[frame_of_p, encode("p")[0]] - 0.5
    batch = _batch([logits])
    assert _texts(greedy_decode(*batch)) == ["hellp world"]
    lm = LMTables(fit_char_lm(TEXTS, order=5))
    assert _texts(beam_search_decode(*batch, lm, BeamSettings(8, 8, 0.8, 1.0))) == ["hello world"]


def _exact_best_labeling(log_probs: np.ndarray) -> str:
    """Most probable labeling by summing every CTC path (2 characters, tiny T)."""
    a, b = encode("a")[0], encode("b")[0]
    totals: dict[tuple[int, ...], float] = {}
    for path in itertools.product([0, a, b], repeat=len(log_probs)):
        labels = tuple(k for i, k in enumerate(path) if k and (i == 0 or path[i - 1] != k))
        p = float(np.exp(sum(log_probs[t, k] for t, k in enumerate(path))))
        totals[labels] = totals.get(labels, 0.0) + p
    best = max(totals, key=totals.get)
    return "".join(ALPHABET[k - 1] for k in best)


@pytest.mark.parametrize("seed", range(6))
def test_wide_beam_finds_the_exact_most_probable_labeling(seed):
    rng = np.random.default_rng(seed)
    logits = np.full((6, V), -30.0, np.float32)  # only blank, "a" and "b" are possible
    for k in (0, encode("a")[0], encode("b")[0]):
        logits[:, k] = rng.normal(0.0, 1.5, 6)
    log_probs = tf.nn.log_softmax(logits).numpy()
    decoded = beam_search_decode(*_batch([logits]), None, BeamSettings(64, 2, 0.0, 0.0))
    assert _texts(decoded) == [_exact_best_labeling(log_probs)]


# --------------------------------------------------------------------------- export


def test_export_with_the_lm_decoder_reloads_in_a_fresh_process(tmp_path):
    config = STTConfig.tiny()
    model = build_model(config)
    output = model.layers[-1]  # an untrained model mostly says blank: make it say characters
    kernel, bias = output.get_weights()
    output.set_weights([kernel, np.where(np.arange(len(bias)) == 0, -10.0, bias)])
    lm = fit_char_lm(TEXTS, order=config.lm_order)
    serving = STTServing(model, config, lm, BeamSettings(4, 4, 0.5, 1.0))
    rng = np.random.default_rng(0)
    waves = [rng.normal(0, 0.1, n).astype(np.float32) for n in (8000, 12000, 4000)]
    expected = transcribe(serving, waves, 8000)
    assert all(expected) and expected != transcribe(STTServing(model, config), waves, 8000)
    path = export(serving, tmp_path / "model")
    texts, decoder = transcribe_in_fresh_process(path, waves, tmp_path)
    assert texts == expected
    assert json.loads(decoder) == {
        "beam": 4,
        "chars_per_step": 4,
        "lm_weight": 0.5,
        "char_bonus": 1.0,
    }
    reloaded = load(path)
    np.testing.assert_array_equal(reloaded.lm.keys.numpy(), lm.keys)
