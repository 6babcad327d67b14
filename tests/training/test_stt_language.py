# ruff: noqa: RUF001, RUF003 (Russian text uses Cyrillic letters on purpose)
"""STT language input: output masking, the saved ``transcribe_language`` signature, the
language-confusion measure, and the decoder choice that may not make real speech worse."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from training.stt.config import STTConfig
from training.stt.decode import greedy_decode
from training.stt.export import LANGUAGE_SIGNATURE_NAME, STTServing, export, load, transcribe
from training.stt.features import MODEL_RATE
from training.stt.language import SCRIPTS, allowed, confused, confusion_rate, mask_logits
from training.stt.model import build_model
from training.stt.text import ALPHABET
from training.stt.tune import best_decoder


def _logits_spelling(text: str, steps_per_char: int = 2) -> np.ndarray:
    """[1, T, V+1] logits whose greedy decoding is ``text`` (each char then a blank)."""
    ids = [ALPHABET.index(ch) + 1 for ch in text]
    frames = []
    for i in ids:
        frames += [i] * steps_per_char + [0]
    logits = np.full((1, len(frames), len(ALPHABET) + 1), -5.0, np.float32)
    for t, i in enumerate(frames):
        logits[0, t, i] = 5.0
    return logits


def test_each_language_allows_only_its_script_and_the_shared_marks():
    for language, letters in SCRIPTS.items():
        mask = allowed(language)
        other = "".join(v for k, v in SCRIPTS.items() if k != language)
        assert mask[0], "the CTC blank is always allowed"
        assert all(mask[ALPHABET.index(ch) + 1] for ch in letters + " '")
        assert not any(mask[ALPHABET.index(ch) + 1] for ch in other)
    with pytest.raises(ValueError, match="unknown language 'de'"):
        allowed("de")


def test_masking_turns_english_letters_of_a_russian_call_into_russian_ones():
    # Latin "a" is the likeliest output; Cyrillic "а" a close second at every step
    logits = _logits_spelling("aaa")
    logits[0, :, ALPHABET.index("а") + 1] = np.where(
        logits[0, :, ALPHABET.index("a") + 1] > 0, 4, -5
    )
    steps = tf.constant([logits.shape[1]])

    def decode(lang: str) -> tf.Tensor:
        return greedy_decode(mask_logits(tf.constant(logits), tf.constant([lang])), steps)

    assert decode("").numpy()[0].decode() == "aaa", "unknown language: unmasked"
    assert decode("en").numpy()[0].decode() == "aaa"
    assert decode("ru").numpy()[0].decode() == "ааа"  # Cyrillic


def test_confusion_counts_texts_written_mostly_in_the_other_script():
    assert confused("privet kak dela", "ru")
    assert not confused("привет kak дела", "ru")  # 9 of 13 letters Cyrillic
    assert confused("хелло", "en") and not confused("hello", "en")
    assert not confused("", "ru")
    assert confusion_rate(["hello", "привет", "privet"], ["en", "ru", "ru"]) == pytest.approx(1 / 3)
    assert confusion_rate([], []) == 0.0


def test_the_saved_model_decodes_with_the_callers_language(tmp_path):
    config = STTConfig.tiny()
    serving = STTServing(build_model(config), config)
    path = export(serving, tmp_path / "stt")
    loaded = load(path)
    assert LANGUAGE_SIGNATURE_NAME in loaded.signatures
    rng = np.random.default_rng(0)
    waves = [rng.normal(0, 0.1, MODEL_RATE * 2).astype(np.float32) for _ in range(4)]
    languages = ["ru", "en", "ru", "en"]
    masked = transcribe(loaded, waves, MODEL_RATE, languages=languages)
    latin, cyrillic = set(SCRIPTS["en"]), set(SCRIPTS["ru"])
    for text, language in zip(masked, languages, strict=True):
        foreign = latin if language == "ru" else cyrillic
        assert not set(text) & foreign, (language, text)
    # an untrained model babbles in both scripts when it is not told the language
    unmasked = "".join(transcribe(loaded, waves, MODEL_RATE))
    assert set(unmasked) & latin and set(unmasked) & cyrillic
    assert transcribe(loaded, waves, MODEL_RATE, languages=[None] * 4) == transcribe(
        loaded, waves, MODEL_RATE
    )
    with pytest.raises(ValueError, match="1 languages for 4 waveforms"):
        transcribe(loaded, waves, MODEL_RATE, languages=["ru"])


def test_a_model_saved_without_the_language_signature_still_transcribes(tmp_path):
    config = STTConfig.tiny()
    serving = STTServing(build_model(config), config)
    before = tf.Module()  # a model as saved before the language input: ``serve`` only
    before.model, before.serve = serving.model, serving.serve
    path = tmp_path / "old"
    tf.saved_model.save(before, str(path), signatures={"serving_default": before.serve})
    old = tf.saved_model.load(str(path))
    assert not hasattr(old, "serve_language")
    wave = [np.random.default_rng(1).normal(0, 0.1, MODEL_RATE).astype(np.float32)]
    assert transcribe(old, wave, MODEL_RATE, languages=["ru"]) == transcribe(old, wave, MODEL_RATE)


def test_the_decoder_choice_never_makes_real_speech_worse_than_greedy():
    validation = {"greedy": 0.30, "lm_weight=0.8": 0.20, "lm_weight=0.4": 0.25}
    groups = {
        "greedy": {"synthetic": 0.20, "real": 0.60},
        "lm_weight=0.8": {"synthetic": 0.08, "real": 0.65},  # best overall, worse on real
        "lm_weight=0.4": {"synthetic": 0.15, "real": 0.58},
    }
    assert best_decoder(validation, groups) == "lm_weight=0.4"
    groups["lm_weight=0.4"]["real"] = 0.61
    assert best_decoder(validation, groups) == "greedy"
    # without real rows in validation, the lowest overall CER wins
    synthetic_only = {name: {"synthetic": g["synthetic"]} for name, g in groups.items()}
    assert best_decoder(validation, synthetic_only) == "lm_weight=0.8"
