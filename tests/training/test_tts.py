"""TTS family: espeak durations, length regulator, Griffin-Lim, tiny training, SavedModel."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from core.synthesis import espeak_raw
from training.tts.config import TTSConfig
from training.tts.diagnose import DEGRADATIONS, diagnose
from training.tts.durations import Alignment, char_boundaries, espeak_durations, frame_durations
from training.tts.evaluate import cer, evaluate_exported, intelligibility, round_trip
from training.tts.export import export, load, synthesize
from training.tts.features import MelSpec
from training.tts.model import length_regulate
from training.tts.synthetic import synthetic_rows
from training.tts.train import train

ROOT = Path(__file__).resolve().parents[2]
PROBES = (["Заблокируйте карту, пожалуйста.", "What is my balance?"], ["ru", "en"])


@pytest.fixture(scope="module")
def rows(tmp_path_factory) -> list[dict]:
    return synthetic_rows(8, tmp_path_factory.mktemp("tts_audio"), seed=3)


@pytest.fixture(scope="module")
def trained(rows, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("tts_run")
    result = train(rows, TTSConfig.tiny(epochs=4), run_dir)
    result.model_path = export(result.serving, run_dir / "model")
    return result, run_dir


# --------------------------------------------------------------------------- durations


def test_char_boundaries_follow_word_and_phoneme_events():
    # "ab c": word "ab" spoken 100..400 (a: 100-300, b: 300-400), pause to 500, "c" 500..700
    alignment = Alignment(
        samples=np.zeros(800, np.int16),
        sample_rate=100,
        words=[(0, 100), (3, 500)],
        phonemes=[("a", 100, 0), ("b", 300, 0), ("_:", 400, 0), ("k", 500, 1), ("_", 700, 1)],
    )
    ends = char_boundaries("ab c", alignment)
    assert ends.tolist() == [100, 300, 400, 500, 700, 800]  # ^ a b ␠ c $
    durations = frame_durations(ends, 100, 100, 100, frames=9)
    assert durations.tolist() == [1, 2, 1, 1, 2, 2]


def test_a_word_event_without_spoken_phonemes_takes_no_time():
    # espeak-ng may add a WORD event at a clause's punctuation (here the space of "ab, c")
    # owning only the final pause: it must not hand the rest of the utterance to the comma
    alignment = Alignment(
        samples=np.zeros(800, np.int16),
        sample_rate=100,
        words=[(0, 100), (4, 500), (3, 790)],
        phonemes=[("a", 100, 0), ("b", 300, 0), ("_:", 400, 0), ("k", 500, 1), ("_", 790, 2)],
    )
    ends = char_boundaries("ab, c", alignment)
    assert ends.tolist() == [100, 300, 400, 450, 500, 790, 800]  # ^ a b , ␠ c $


def test_espeak_durations_give_every_word_of_a_long_sentence_its_time():
    # a sentence whose alignment once gave the comma after "Омске" 1.1 s and the last words 0
    text = "Вот, отделение банка в Омске, если можно."
    durations, _ = espeak_durations(text, "ru+f5", 175, 70, 8000, 80)
    symbols = "^" + text + "$"
    words = [w.strip(",.") for w in text.split()]
    start = 1
    for word in words:
        start = symbols.index(word, start)
        assert durations[start : start + len(word)].sum() >= len(word), word
        start += len(word)
    assert durations[1:-1].max() <= 30  # no character lasts 300 ms


def test_espeak_durations_on_known_text_match_the_recording():
    text = "Привет, мир."
    durations, n = espeak_durations(text, "ru+m3", 150, 60, 8000, 80)
    samples, rate = espeak_raw(text, "ru+m3", 150, 60)  # what the simulator records
    assert n == round(len(samples) * 8000 / rate)
    assert len(durations) == len(text) + 2
    assert durations.sum() == 1 + n // 80  # every frame of the recording is accounted for
    symbols = "^" + text + "$"
    by_symbol = dict(zip(symbols, durations.tolist(), strict=False))
    assert by_symbol[","] + by_symbol[" "] >= 5  # the comma's pause (>= 50 ms)
    assert sum(durations[1:7]) > sum(durations[9:12]) > 0  # "Привет" lasts longer than "мир"
    # a fresh espeak per alignment: another voice in between changes nothing
    espeak_durations("Hello there, friend.", "en-us+f2", 190, 30, 8000, 80)
    again, _ = espeak_durations(text, "ru+m3", 150, 60, 8000, 80)
    assert again.tolist() == durations.tolist()


# --------------------------------------------------------------------------- model parts


def test_length_regulator_repeats_symbols_for_their_frames():
    h = tf.constant([[[1.0], [2.0], [3.0]], [[4.0], [5.0], [0.0]]])
    durations = tf.constant([[2, 0, 3], [1, 1, 0]])
    frames, within, mask, totals = length_regulate(h, durations)
    assert totals.numpy().tolist() == [5, 2]
    assert frames.numpy()[..., 0].tolist() == [[1, 1, 3, 3, 3], [4, 5, 0, 0, 0]]
    assert mask.numpy().tolist() == [[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]]
    np.testing.assert_allclose(within.numpy()[0], [0, 0.5, 0, 1 / 3, 2 / 3], atol=1e-6)


def two_utterances() -> dict[str, tf.Tensor]:
    """Model inputs of two utterances: 3 symbols in 7 frames, 4 symbols in 5 frames."""
    return {
        "chars": tf.constant([[1, 2, 3, 0], [4, 5, 6, 7]]),
        "language": tf.constant([0, 1]),
        "variant": tf.constant([0, 1]),
        "accent": tf.constant([0, 0]),
        "prosody": tf.zeros([2, 2]),
        "durations": tf.constant([[2, 3, 2, 0], [1, 1, 1, 2]]),
    }


@pytest.mark.parametrize(("reduction", "separable"), [(1, False), (2, False), (3, True)])
def test_decoder_frame_groups_keep_every_utterance_length(reduction, separable):
    from training.tts.features import SILENCE
    from training.tts.model import FastSpeech

    config = TTSConfig.tiny(reduction=reduction, separable_decoder=separable)
    model = FastSpeech(config)
    inputs = two_utterances()
    mel = model(inputs)["mel"].numpy()
    assert mel.shape == (2, 7, config.n_mels)  # not rounded up to a multiple of the group
    assert np.all(mel[1, 5:] == np.float32(SILENCE))  # past the end: silence
    assert np.all(mel[1, :5] != np.float32(SILENCE))


def test_a_postnet_refines_the_decoders_mel_and_both_are_trained(rows, tmp_path):
    from training.tts.features import SILENCE
    from training.tts.model import FastSpeech

    config = TTSConfig.tiny(postnet_layers=2, postnet_dim=16, reduction=2)
    model = FastSpeech(config)
    inputs = two_utterances()
    out = model(inputs)
    # the postnet starts as the identity and keeps the silence past each utterance's end
    np.testing.assert_array_equal(out["mel"].numpy(), out["coarse_mel"].numpy())
    assert np.all(out["mel"].numpy()[1, 5:] == np.float32(SILENCE))
    result = train(rows, TTSConfig.tiny(epochs=3, postnet_layers=2, postnet_dim=16), tmp_path)
    postnet = result.serving.model.postnet
    assert np.abs(postnet.residual.kernel.numpy()).max() > 0  # it learned a correction
    path = export(result.serving, tmp_path / "model")
    here, _ = synthesize(result.serving, *PROBES)
    there, _ = synthesize(load(path), *PROBES)
    for a, b in zip(here, there, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_griffin_lim_round_trip_on_a_known_mel():
    rate = 8000
    t = np.arange(int(0.6 * rate)) / rate
    f0 = 140 + 30 * t  # a gliding harmonic tone, like a voiced vowel
    phase = 2 * np.pi * np.cumsum(f0) / rate
    wave = sum(np.sin(k * phase) / k for k in range(1, 12)).astype(np.float32)
    wave *= 0.5 / np.abs(wave).max()
    spec = MelSpec(rate, 256, 80, 64, 0.0, 4000.0)
    mel = spec.log_mel(tf.constant(wave[None]))
    assert mel.shape == (1, 1 + len(wave) // 80, 64)

    def error(iterations: int) -> float:
        audio = spec.griffin_lim(mel, iterations, 1.0)
        assert audio.shape == (1, mel.shape[1] * 80)
        again = spec.log_mel(audio)[:, : mel.shape[1]]
        return float(tf.reduce_mean(tf.abs(tf.maximum(again, -6.0) - tf.maximum(mel, -6.0))))

    assert error(32) < 0.25
    assert error(32) < error(0)


# --------------------------------------------------------------------------- training


def test_tiny_training_learns_and_reports_every_split(trained):
    result, run_dir = trained
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert {"mel_l1", "duration_loss", "val_loss"} <= set(result.history)
    assert set(result.metrics) == {"validation", "test"}
    for split in result.metrics.values():
        assert set(split) == {"all", "ru", "en"}
    test = result.metrics["test"]["all"]
    assert test["n"] > 0 and test["mel_l1"] > 0 and test["duration_mae"] >= 0
    assert result.examples["train"]["ru"] > 0 and result.examples["train"]["en"] > 0
    assert any((run_dir / "tensorboard").rglob("events.out.tfevents.*"))


def test_serving_speaks_raw_text_in_both_languages(trained):
    result, _ = trained
    out = result.serving.serve(texts=tf.constant(PROBES[0]), languages=tf.constant(PROBES[1]))
    waves, lengths = out["waveforms"].numpy(), out["lengths"].numpy()
    assert int(out["sample_rate"]) == 8000
    assert waves.shape[0] == 2 and lengths.min() > 0 and waves.shape[1] == lengths.max()
    assert np.abs(waves).max() <= 1.0
    for wave, length in zip(waves, lengths, strict=True):
        assert np.abs(wave[:length]).max() > 0.1 and not wave[length:].any()


def test_export_reloads_in_a_fresh_process_with_the_same_waveforms(trained, tmp_path):
    result, _ = trained
    here, rate = synthesize(result.serving, *PROBES)
    script = (
        "import sys, numpy as np\n"
        "from training.tts.export import load, synthesize\n"
        f"waves, rate = synthesize(load(sys.argv[1]), {PROBES[0]!r}, {PROBES[1]!r})\n"
        "np.savez(sys.argv[2], rate=rate, *waves)\n"
    )
    out = tmp_path / "waves.npz"
    subprocess.run(
        [sys.executable, "-c", script, str(result.model_path), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    there = np.load(out)
    assert int(there["rate"]) == rate
    for i, wave in enumerate(here):
        np.testing.assert_allclose(there[f"arr_{i}"], wave, atol=1e-4)


def test_evaluate_exported_has_the_contract_shape_and_matches_training(trained, rows):
    result, _ = trained
    test_rows = [row for row in rows if row["split"] == "test"]
    scores = evaluate_exported(result.model_path, test_rows)
    assert set(scores) == {"all", "ru", "en"}
    for language, metrics in scores.items():
        assert all(isinstance(v, float) for v in metrics.values())
        expected = result.metrics["test"][language]
        assert metrics.keys() == expected.keys()
        for name, value in metrics.items():
            assert value == pytest.approx(expected[name], rel=1e-4, abs=1e-5)


# --------------------------------------------------------------------------- intelligibility


def test_cer_on_known_cases():
    assert cer(["Привет, мир!"], ["привет мир"], ["ru"]) == 0.0
    assert cer(["Ёлка"], ["елка"], ["ru"]) == 0.0
    assert cer(["5 apples"], ["five apples"], ["en"]) == 0.0  # digits spelled as said
    assert cer(["abcd"], ["abed"], ["en"]) == pytest.approx(0.25)
    assert cer(["ab", "cd"], ["", "cd"], ["en", "en"]) == pytest.approx(0.5)


@pytest.fixture(scope="module")
def tiny_stt(tmp_path_factory):
    stt_train = pytest.importorskip("training.stt.train")
    from training.stt.config import STTConfig
    from training.stt.synthetic import synthetic_rows as stt_rows

    tmp = tmp_path_factory.mktemp("tiny_stt")
    return stt_train.train(stt_rows(6, seed=1, cache=tmp), STTConfig.tiny(), tmp / "r").serving


def test_intelligibility_through_the_stt_contract(trained, rows, tiny_stt):
    result, _ = trained
    test_rows = [row for row in rows if row["split"] != "train"]  # both languages
    scores = intelligibility(result.serving, tiny_stt, test_rows)
    assert set(scores) == {"all", "ru", "en"}
    for metrics in scores.values():
        # acoustic_cer_ratio: the in-process STT model has ``acoustic`` (greedy decoding)
        assert set(metrics) == {"cer_tts", "cer_recordings", "cer_ratio", "acoustic_cer_ratio"}
        assert all(v >= 0 for v in metrics.values())
    assert json.dumps(scores)  # plain floats


def test_the_round_trip_hears_each_row_in_its_own_language_as_served(trained, rows, tiny_stt):
    from training.stt.export import transcribe

    result, _ = trained
    test_rows = [row for row in rows if row["split"] != "train"]  # both languages
    heard = round_trip(result.serving, tiny_stt, test_rows)
    assert heard.heard_tts == transcribe(
        tiny_stt, heard.synthesized, heard.rate, languages=heard.languages
    )
    assert heard.heard_recordings == transcribe(
        tiny_stt, heard.recordings, heard.rate, languages=heard.languages
    )
    other_script = {"ru": "abcdefghijklmnopqrstuvwxyz", "en": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"}
    texts = heard.heard_tts + heard.heard_recordings
    for text, language in zip(texts, heard.languages * 2, strict=True):
        assert not set(text) & set(other_script[language]), (language, text)


def test_real_speech_rows_are_scored_apart_from_the_ratio(trained, rows, tiny_stt):
    from training.stt.text import normalize

    result, _ = trained
    test_rows = [row for row in rows if row["split"] != "train"]  # both languages
    marked = [dict(row, is_real_speech=i == 0) for i, row in enumerate(test_rows)]
    together = intelligibility(result.serving, tiny_stt, test_rows)["all"]
    apart = intelligibility(result.serving, tiny_stt, marked)
    language = test_rows[0]["language"]
    assert {"real_cer_tts", "real_cer_recordings"} <= set(apart[language])
    assert "real_cer_tts" not in apart[{"ru": "en", "en": "ru"}[language]]
    # corpus CERs: the rows together = the simulated and the real rows, weighted by length
    lengths = [len(normalize(row["text"], row["language"])) for row in test_rows]
    real, simulated = lengths[0], sum(lengths[1:])
    for kind in ("tts", "recordings"):
        split = apart["all"][f"cer_{kind}"] * simulated + apart["all"][f"real_cer_{kind}"] * real
        assert together[f"cer_{kind}"] == pytest.approx(split / (simulated + real)), kind


def test_diagnose_scores_recordings_vocoder_copies_and_the_model(trained, rows, tiny_stt):
    result, _ = trained
    test_rows = [row for row in rows if row["split"] == "test"]
    found = diagnose(test_rows, tiny_stt, result.config, tts=result.serving)
    expected = {"recordings", *DEGRADATIONS, "model, measured durations", "model, own durations"}
    assert set(found) == expected | {"model, served (house voice)"}
    for kind, cers in found.items():
        assert set(cers) >= {"all"} and all(v >= 0 for v in cers.values()), kind


def test_diagnose_degradations_blur_along_the_axis_they_name():
    impulse = np.zeros((21, 16), np.float32)  # [frames, mel bins]
    impulse[10, 8] = 1.0
    in_time = DEGRADATIONS["vocoder, 20 ms blur"](impulse)
    in_frequency = DEGRADATIONS["vocoder, 2 mel bins blur"](impulse)
    assert in_time[9, 8] > 0 and in_time[10, 7] == 0  # neighbouring frames, same bin
    assert in_frequency[10, 7] > 0 and in_frequency[9, 8] == 0
    assert DEGRADATIONS["vocoder"](impulse) is impulse
    assert DEGRADATIONS["vocoder, floor -4"](np.full((2, 2), -9.0)).min() == -4.0


def test_run_exports_and_summarises_for_the_platform(rows, tmp_path):
    from training.tts.train import run

    # a one-step budget cuts the three epochs asked to one (a budget never stops mid-epoch)
    summary = run(rows, TTSConfig.tiny(epochs=3, max_steps=1), tmp_path)
    assert summary.model_path == tmp_path / "saved_model"
    assert (summary.model_path / "saved_model.pb").is_file()
    assert set(summary.scores["test"]) == {"all", "ru", "en"}
    assert summary.epochs == 1 and summary.params > 0
    assert len(summary.history["loss"]) == 1
    assert "| epoch |" in summary.tables["curves"]


@pytest.mark.parametrize(
    ("setting", "reason"),
    [
        ("house_en=flite:kal:t1.00:p+0:g+0", "held-out voice"),
        ("house_en=espeak:en-us+m7:s160:p50", "held-out voice"),
        ("house_ru=espeak:en-us+m3:s160:p50", "it speaks en, not ru"),
        ("house_en=festival:cmu_us_slt_arctic_hts:t1.00:p+0:g+0", "natural_voices=true"),
        ("house_ru=festvox-ru", "real_speech=true"),
        ("house_en=slt", "not a flite or festival speaker id"),
    ],
)
def test_a_house_voice_the_model_never_trains_on_is_refused(setting, reason):
    with pytest.raises(ValueError, match=reason) as refused:
        TTSConfig.preset("tiny", [setting])
    assert str(refused.value).startswith(setting)


def test_house_voices_trained_on_are_accepted():
    natural = "house_en=festival:cmu_us_slt_arctic_hts:t1.00:p+0:g+0"
    config = TTSConfig.preset("tiny", [natural, "natural_voices=true"])
    assert config.house_en.startswith("festival:")
    assert TTSConfig.preset("demo", ["house_ru=festvox-ru"]).house_ru == "festvox-ru"
