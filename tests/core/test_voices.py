"""The speaker catalog beyond espeak (core.voices) and the engines behind it (core.synthesis)."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from core import synthesis, voices
from core.audio import render_speech
from core.telephony import parse_line

needs_flite = pytest.mark.skipif(shutil.which("flite") is None, reason="flite missing")
needs_festival = pytest.mark.skipif(shutil.which("festival") is None, reason="festival missing")

TEXT = {"en": "Please block my card, I lost it yesterday.", "ru": "Заблокируйте мою карту."}


def _like(pattern: str, text: str) -> bool:
    """SQL LIKE (``%`` any run, ``_`` one character), as dbt's staging model applies it."""
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text) is not None


@pytest.mark.parametrize("language", ["ru", "en"])
def test_catalog_is_deterministic_unique_and_parseable(language: str) -> None:
    catalog = voices.catalog(language)
    assert catalog == voices.catalog(language)
    assert len({s.id for s in catalog}) == len(catalog)
    engines = {s.engine for s in catalog}
    assert engines == set(voices.ENGINE_WEIGHTS[language])
    for speaker in catalog:
        setting = voices.parse_speaker_id(speaker.id)
        if isinstance(setting, voices.NaturalVoice):
            assert voices.natural_id(setting) == speaker.id


def test_natural_ids_round_trip_and_garbage_is_rejected() -> None:
    voice = voices.parse_speaker_id("flite:slt:t1.05:p+1:g-3")
    assert voice == voices.NaturalVoice("flite", "slt", 1.05, 1, -3)
    for bad in (
        "flite:slt:t1.05:p+1",
        "flite:nobody:t1.00:p+0:g+0",
        "festival:slt:t1.00:p+0:g+0",
        "flite:slt:t9.00:p+0:g+0",
        "flite:slt:t1.00:p+0:g+6",
        "festvox-ru:ru_0001",
        "",
    ):
        with pytest.raises(ValueError):
            voices.parse_speaker_id(bad)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_held_out_patterns_are_exactly_the_held_out_voices(language: str) -> None:
    patterns = voices.held_out_patterns()
    for speaker in voices.catalog(language):
        assert any(_like(p, speaker.id) for p in patterns) == speaker.held_out, speaker.id


@pytest.mark.parametrize("language", ["ru", "en"])
def test_held_out_and_language_of_an_id_are_the_catalogs(language: str) -> None:
    for speaker in voices.catalog(language):
        assert voices.is_held_out(speaker.id) == speaker.held_out, speaker.id
        assert voices.speaker_language(speaker.id) == language, speaker.id
    assert not voices.is_held_out("festvox-ru") and voices.speaker_language("festvox-ru") == "ru"
    with pytest.raises(ValueError):
        voices.is_held_out("espeak:xx")


def test_every_engine_with_two_voices_holds_one_out_and_speakers_never_cross() -> None:
    for language in voices.LANGUAGES:
        for engine in voices.ENGINE_WEIGHTS[language]:
            catalog = voices.engine_speakers(engine, language)
            names = {voices.parse_speaker_id(s.id).voice for s in catalog}
            if len(names) > 1:
                assert {s.held_out for s in catalog} == {True, False}, (engine, language)
    # a held-out speaker (kal) is held out in every engine that has a voice of it
    kal = [s for s in voices.catalog("en") if ":kal" in s.id]
    assert kal and all(s.held_out for s in kal)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_pick_speaker_follows_the_engine_weights(language: str) -> None:
    rng = random.Random(5)
    picked = [voices.pick_speaker(rng, language) for _ in range(3000)]
    weights = voices.ENGINE_WEIGHTS[language]
    for engine, weight in weights.items():
        share = sum(s.engine == engine for s in picked) / len(picked)
        assert share == pytest.approx(weight / sum(weights.values()), abs=0.04)
    held = sum(s.held_out for s in picked) / len(picked)
    assert 0.1 < held < 0.3
    rng_a, rng_b = random.Random(9), random.Random(9)
    assert [voices.pick_speaker(rng_a, language) for _ in range(50)] == [
        voices.pick_speaker(rng_b, language) for _ in range(50)
    ]


@needs_flite
def test_catalog_flite_voices_exist() -> None:
    listed = subprocess.run(["flite", "-lv"], capture_output=True, text=True, check=True).stdout
    available = set(listed.split(":", 1)[1].split())
    assert set(voices.NATURAL_VOICES["flite"]["en"]) <= available


@needs_festival
@pytest.mark.parametrize(
    "speaker_id",
    [
        "flite:slt:t1.05:p+1:g-3",
        "flite:kal16:t0.90:p-2:g+0",
        "festival:kal_diphone:t1.00:p+0:g+0",
        "festival:cmu_us_slt_arctic_hts:t1.10:p-1:g-6",
        "festival:msu_ru_nsh_clunits:t0.95:p+2:g-3",
    ],
)
def test_natural_engines_speak_with_their_prosody(speaker_id: str) -> None:
    voice = voices.parse_natural_id(speaker_id)
    text = TEXT["ru" if voice.voice.startswith("msu_ru") else "en"]
    samples, gain_db, rate = synthesis.synthesize(text, speaker_id)
    assert rate in (8000, 16000, 32000, 48000) and gain_db == voice.gain_db
    duration = len(samples) / rate
    assert 0.8 < duration < 8 and np.sqrt(np.mean(samples.astype(float) ** 2)) > 300
    plain = voices.natural_id(voices.NaturalVoice(voice.engine, voice.voice, 1.0, 0, 0))
    plain_samples, _, plain_rate = synthesis.synthesize(text, plain)
    expected = len(plain_samples) / plain_rate / voice.tempo  # sox tempo scales the duration
    assert duration == pytest.approx(expected, rel=0.08)
    if plain != speaker_id:
        assert not np.array_equal(samples, plain_samples)


@needs_festival
def test_russian_voice_reads_latin_and_quotes() -> None:
    text = 'Моя почта ivan.petrov@mail.ru, "срочно".'
    assert "собака" in synthesis.russian_readable(text)
    assert not re.search("[a-z]", synthesis.russian_readable(text))
    samples, _, rate = synthesis.synthesize(text, "festival:msu_ru_nsh_clunits:t1.00:p+0:g+0")
    assert len(samples) / rate > 2.0


def test_russian_voice_gets_digit_groups_joined() -> None:
    # Festival's Russian voice says nothing for the "000" of "3 000"
    readable = synthesis.russian_readable("Переведите 3 000 000 и 45 000, дом 12 34")
    assert readable == "Переведите 3000000 и 45000, дом 12 34"


def test_flite_is_given_a_final_newline() -> None:
    # without one, flite drops a last sentence of one word ("... Thanks.")
    assert synthesis.flite_input("Block my card. Thanks.") == "Block my card. Thanks.\n"


@needs_festival
def test_festival_session_survives_many_utterances_and_is_closed() -> None:
    session = synthesis.FestivalSession()
    try:
        for i in range(3):
            path = Path(f"/tmp/voiceops-festival-test-{i}.wav")
            assert session.wav(f"Number {i + 1}.", "kal_diphone", path).stat().st_size > 1000
            path.unlink()
        process = session._process
        assert process is not None and process.poll() is None
    finally:
        session.close()
    assert process.poll() is not None


@needs_flite
def test_render_natural_voice_on_a_degraded_line_is_deterministic(tmp_path: Path) -> None:
    speaker = voices.Speaker("flite:rms:t1.00:p-1:g-3", "en", False)
    line = parse_line("gsm:band=250-3300:loss=0.020:snr=12:noise=babble:reverb=0.30:clip=0.00")
    first, second, clean = tmp_path / "a.wav", tmp_path / "b.wav", tmp_path / "c.wav"
    render_speech(TEXT["en"], speaker, first, line=line)
    render_speech(TEXT["en"], speaker, second, line=line)
    render_speech(TEXT["en"], speaker, clean)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != clean.read_bytes()


def test_engine_of_every_catalog_speaker_is_its_engine() -> None:
    from core.voices import ENGINES, engine_speakers, speaker_engine

    for engine in ENGINES:
        for language in ("en", "ru"):
            for speaker in engine_speakers(engine, language):
                assert speaker_engine(speaker.id) == speaker.engine == engine
    assert speaker_engine("festvox-ru:ru_0042") == "festvox-ru"
