"""Character durations of flite and Festival rows from their engine's own timings, the TTS
data path that trains on them (``natural_voices``) and their speaker conditioning."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from core import synthesis
from core.audio import render_speech
from core.voices import NaturalVoice, Speaker, catalog, parse_natural_id
from training.common.audio import read_wav
from training.tts.config import TTSConfig
from training.tts.data import prepare
from training.tts.engine_timings import EngineTiming, Flite, NaturalEngines
from training.tts.natural_durations import (
    MISMATCH,
    UNMAPPED,
    UNSAID,
    natural_durations,
    token_positions,
)
from training.tts.speakers import SpeakerParser

needs_flite = pytest.mark.skipif(shutil.which("flite") is None, reason="flite missing")
needs_festival = pytest.mark.skipif(shutil.which("festival") is None, reason="festival missing")

TEXT = "My card was blocked yesterday afternoon."
FESTIVAL_HTS = "festival:cmu_us_slt_arctic_hts:t1.05:p+1:g-3"


def _row(text: str, speaker: str, wav: Path) -> dict:
    return {
        "call_id": wav.stem,
        "text": text,
        "language": "en",
        "speaker": speaker,
        "wav_file": str(wav),
        "split": "train",
    }


def _render(text: str, speaker: str, folder: Path, name: str = "row") -> Path:
    path = folder / f"{name}.wav"
    render_speech(text, Speaker(speaker, "en", False), path)
    return path


# --------------------------------------------------------------------------- tokens -> text


def test_tokens_are_found_in_the_text_across_case_punctuation_numbers_and_addresses():
    text = '"Hello", card 4276: e-mail JOHN.doe@mail.ru!'
    tokens = ["Hello", "card", "4276", "e-mail", "john.doe@mail.ru"]
    assert token_positions(text, tokens, [0, 1, 2, 3, 4]) == {0: 1, 1: 9, 2: 14, 3: 20, 4: 27}
    # a token without speech (here "4276") need not be placed
    assert token_positions(text, tokens, [0, 1, 3, 4]) == UNSAID  # but its digits are unsaid


def test_a_number_read_as_one_token_is_found_as_its_digit_groups():
    assert token_positions("Send 3 000 rubles", ["Send", "3000", "rubles"], [0, 1, 2]) == {
        0: 0,
        1: 5,
        2: 11,
    }


def test_tokens_that_are_not_in_the_text_or_leave_words_out_are_refused():
    # the Russian voice reads Latin spelled in Cyrillic: its token is nowhere in the text
    assert token_positions("Мой email тут.", ["Мой", "емаил", "тут"], [0, 1, 2]) == UNMAPPED
    # a last sentence the engine does not say (the flite CLI's, before core.synthesis.flite_input)
    assert token_positions("Block it. Thanks.", ["Block", "it"], [0, 1]) == UNSAID
    assert token_positions("one two", ["one", "two"], [1]) == UNSAID  # a word skipped


# --------------------------------------------------------------------------- timing -> durations


class _FixedEngine:
    """Engines that always report the same timing (the engine's audio: 1 s at 1 kHz)."""

    def __init__(self, timing: EngineTiming):
        self.fixed = timing

    def timing(self, text: str, voice: NaturalVoice) -> EngineTiming:
        return self.fixed


def _timing() -> EngineTiming:
    # "ab cd": pause 0-0.1 s, a 0.1-0.3, b 0.3-0.4, pause -0.5, c 0.5-0.6, d 0.6-0.9, pause -1.0
    segments = [
        ("pau", 0.1, -1),
        ("a", 0.3, 0),
        ("b", 0.4, 0),
        ("pau", 0.5, -1),
        ("k", 0.6, 1),
        ("d", 0.9, 1),
        ("pau", 1.0, -1),
    ]
    return EngineTiming(np.zeros(1000, np.int16), 1000, ["ab", "cd"], segments)


def test_durations_follow_the_segments_and_scale_with_the_tempo():
    engines = _FixedEngine(_timing())
    plain = natural_durations("ab cd", "flite:slt:t1.00:p+0:g+0", 1000, 1000, 100, engines)
    assert plain[0].tolist() == [1, 2, 1, 1, 1, 3, 2] and plain[1] == 1000  # ^ a b ␠ c d $
    # at tempo 0.8 the recording is 1 / 0.8 as long, and so is every boundary
    slow = natural_durations("ab cd", "flite:slt:t0.80:p-2:g-6", 1250, 1000, 100, engines)
    assert slow[1] == 1250
    assert np.cumsum(slow[0]).tolist() == [1, 4, 5, 6, 8, 11, 13]  # 100/0.8 ... 1000/0.8 ms


def test_a_recording_of_another_length_than_the_engines_is_refused():
    engines = _FixedEngine(_timing())
    assert natural_durations("ab cd", "flite:slt:t1.00:p+0:g+0", 1050, 1000, 10, engines) == (
        MISMATCH
    )
    assert natural_durations("ab cd", "flite:slt:t1.00:p+0:g+0", 1010, 1000, 10, engines)[1] == (
        1000
    )


# --------------------------------------------------------------------------- the engines


def _check_known_sentence(durations: np.ndarray, n: int, recorded: int) -> None:
    assert len(durations) == len(TEXT) + 2
    assert abs(n - recorded) <= 80 and durations.sum() == 1 + n // 80
    symbols = "^" + TEXT + "$"
    word = {w: durations[symbols.index(w) : symbols.index(w) + len(w)].sum() for w in TEXT.split()}
    assert word["afternoon."] > word["My"] > 0 and word["yesterday"] > word["was"] > 0
    assert durations[0] > 0 and durations[-1] > 0  # leading and trailing silence


@needs_festival
def test_festival_alignment_of_a_known_sentence(tmp_path: Path):
    wav = _render(TEXT, FESTIVAL_HTS, tmp_path)
    recorded = len(read_wav(str(wav))[0])
    with NaturalEngines() as engines:
        timing = engines.timing(TEXT, parse_natural_id(FESTIVAL_HTS))
        result = natural_durations(TEXT, FESTIVAL_HTS, recorded, 8000, 80, engines)
    assert isinstance(result, tuple)
    _check_known_sentence(*result, recorded)
    # the timed synthesis is the simulator's: the same audio as FestivalSession.wav
    session = synthesis.FestivalSession()
    try:
        plain = session.wav(TEXT, "cmu_us_slt_arctic_hts", tmp_path / "plain.wav")
        samples, rate = synthesis.parse_stream_wav(plain.read_bytes())
    finally:
        session.close()
    assert rate == timing.sample_rate and np.array_equal(samples, timing.samples)


@needs_flite
@pytest.mark.parametrize("speaker", ["flite:slt:t0.95:p+2:g+0", "flite:kal:t1.10:p-1:g-3"])
def test_flite_alignment_of_a_known_sentence(tmp_path: Path, speaker: str):
    wav = _render(TEXT, speaker, tmp_path)
    recorded = len(read_wav(str(wav))[0])
    result = natural_durations(TEXT, speaker, recorded, 8000, 80, NaturalEngines())
    assert isinstance(result, tuple)
    _check_known_sentence(*result, recorded)


@needs_flite
def test_flite_through_the_library_times_what_the_cli_says(tmp_path: Path):
    text = "Hello there. Card 4276 is blocked!"
    for voice in ("kal", "slt"):
        timing = Flite.get().timing(text, voice)
        cli = synthesis.parse_stream_wav(synthesis._flite_wav(text, voice, tmp_path).read_bytes())
        assert (len(timing.samples), timing.sample_rate) == (len(cli[0]), cli[1])
        if voice == "kal":  # a diphone voice: no random excitation, the very same samples
            assert np.array_equal(timing.samples, cli[0])
        assert timing.tokens == ["Hello", "there", "Card", "4276", "is", "blocked"]
        ends = [end for _, end, _ in timing.segments]
        assert ends == sorted(ends) and ends[-1] == pytest.approx(len(cli[0]) / cli[1], abs=0.01)


# --------------------------------------------------------------------------- prepare


@needs_festival
def test_prepare_aligns_natural_voices_only_when_asked(tmp_path: Path):
    rows = [
        _row(TEXT, FESTIVAL_HTS, _render(TEXT, FESTIVAL_HTS, tmp_path, "festival")),
        _row(TEXT, "flite:rms:t1.00:p+0:g+0", _render(TEXT, "flite:rms:t1.00:p+0:g+0", tmp_path)),
    ]
    audio = [read_wav(row["wav_file"]) for row in rows]
    off = prepare(rows, TTSConfig.tiny(), audio)
    assert len(off) == 0 and off.skipped == {"natural voices not enabled": 2}
    on = prepare(rows, TTSConfig.tiny(natural_voices=True), audio)
    assert len(on) == 2 and on.speakers == [row["speaker"] for row in rows] and not on.skipped
    for durations, mel in zip(on.durations, on.mels, strict=True):
        assert len(durations) == len(TEXT) + 2 and durations.sum() == len(mel)


@needs_flite
def test_prepare_skips_natural_rows_that_cannot_be_aligned_with_their_reason(tmp_path: Path):
    slow = "flite:slt:t0.90:p+0:g+0"  # labelled slower than it was spoken
    thanks, awb = "Block my card. Thanks.", "flite:awb:t1.00:p+0:g+0"
    rows = [
        _row(TEXT, slow, _render(TEXT, "flite:slt:t1.00:p+0:g+0", tmp_path, "fast")),
        # a recording without its last word (as the flite CLI made them before flite_input)
        _row(thanks, awb, _render("Block my card.", awb, tmp_path)),
    ]
    audio = [read_wav(row["wav_file"]) for row in rows]
    examples = prepare(rows, TTSConfig.tiny(natural_voices=True), audio)
    assert len(examples) == 0
    assert examples.skipped == {MISMATCH: 2}


@needs_flite
def test_flite_says_a_last_sentence_of_one_word(tmp_path: Path):
    thanks, awb = "Block my card. Thanks.", "flite:awb:t1.00:p+0:g+0"
    row = _row(thanks, awb, _render(thanks, awb, tmp_path))
    examples = prepare([row], TTSConfig.tiny(natural_voices=True), [read_wav(row["wav_file"])])
    assert len(examples) == 1 and not examples.skipped


def _prepared_russian(text: str, tmp_path: Path):
    """``text`` spoken by Festival's Russian voice, then prepared with natural voices on."""
    speaker = "festival:msu_ru_nsh_clunits:t1.00:p+0:g+0"
    path = tmp_path / "ru.wav"
    render_speech(text, Speaker(speaker, "ru", False), path)
    row = _row(text, speaker, path) | {"language": "ru"}
    return prepare([row], TTSConfig.tiny(natural_voices=True), [read_wav(str(path))])


@needs_festival
def test_russian_digit_groups_are_read_and_aligned(tmp_path: Path):
    examples = _prepared_russian("Переведите 3 000 рублей.", tmp_path)
    assert len(examples) == 1 and not examples.skipped


@needs_festival
def test_russian_voice_reading_latin_is_skipped_as_unmapped(tmp_path: Path):
    examples = _prepared_russian("Мой адрес ivan@mail.ru, спасибо.", tmp_path)
    assert len(examples) == 0 and examples.skipped == {UNMAPPED: 1}


# --------------------------------------------------------------------------- speakers


def test_speaker_parser_gives_natural_voices_their_own_ids_and_keeps_espeaks():
    espeak = ["espeak:ru+m3:s160:p50", "espeak:en-us+klatt3:s190:p70", "espeak:ru-lv+m1:s130:p30"]
    natural = [s.id for language in ("en", "ru") for s in catalog(language) if ":t" in s.id]
    others = ["festvox-ru:ru_0001", "flite:nobody:t1.00:p+0:g+0", "garbage"]
    variant, accent, prosody = SpeakerParser()(tf.constant(espeak + natural + others))
    variant, accent, prosody = variant.numpy(), accent.numpy(), prosody.numpy()
    n_espeak, n_natural = len(espeak), len(natural)
    # espeak ids as before: (variant, accent) ids and centred speed and pitch
    assert variant[:n_espeak].tolist() == [3, 15, 1] and accent[:n_espeak].tolist() == [1, 3, 2]
    np.testing.assert_allclose(prosody[:n_espeak], [[0, 0], [1, 1], [-1, -1]])
    # each natural voice its own variant id after espeak's, each engine its own accent id
    spoken = variant[n_espeak : n_espeak + n_natural]
    ids = {s.rsplit(":", 3)[0]: int(v) for s, v in zip(natural, spoken, strict=True)}
    assert len(set(ids.values())) == len(ids) == 8 and min(ids.values()) > 15
    by_engine = accent[n_espeak : n_espeak + n_natural]
    engines = {s.split(":")[0]: int(a) for s, a in zip(natural, by_engine, strict=True)}
    assert len(set(engines.values())) == 2 and min(engines.values()) > 8
    assert max(variant) < SpeakerParser.n_variants and max(accent) < SpeakerParser.n_accents
    # tempo as speed, semitones as pitch: flite:slt:t1.10:p+1 speaks like 176 wpm, +0.5
    slt = natural.index("flite:slt:t1.10:p+1:g-3")
    np.testing.assert_allclose(prosody[n_espeak + slt], [16 / 30, 0.5], rtol=1e-5)
    # real speech, unknown voices and garbage: id 0 and mean prosody
    rest = slice(n_espeak + n_natural, None)
    assert variant[rest].tolist() == [0, 0, 0] and accent[rest].tolist() == [0, 0, 0]
    assert not prosody[rest].any()
