"""Call audio (core.audio, core.voices): telephone-band speech, speakers, defects, real speech."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from core import voices
from core.audio import (
    DEFECT_KINDS,
    Speaker,
    real_speech_utterances,
    render_speech,
    speakers,
    telephone_copy,
    write_defective_wav,
)
from core.splits import real_speech_split

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing")

TEXTS = {
    "ru": "Здравствуйте, я хочу заблокировать карту, она заканчивается на 4512.",
    "en": "Hello, I would like to block my card, it ends in four five one two.",
}


def _read(path: Path) -> tuple[wave._wave_params, np.ndarray]:
    with wave.open(str(path), "rb") as w:
        params = w.getparams()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return params, samples


def _first(language: str, held_out: bool = False) -> Speaker:
    return next(s for s in speakers(language) if s.held_out == held_out)


# --------------------------------------------------------------------------- catalog


@pytest.mark.parametrize("language", ["ru", "en"])
def test_catalog_is_deterministic_and_large(language: str) -> None:
    first, second = speakers(language), speakers(language)
    assert first == second
    assert len(first) >= 40
    assert len({s.id for s in first}) == len(first)
    assert all(s.language == language for s in first)
    assert all(re.fullmatch(r"espeak:[a-z0-9-]+\+\w+:s\d+:p\d+", s.id) for s in first)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_held_out_voices_are_whole_variants(language: str) -> None:
    catalog = speakers(language)
    held = {voices.parse_espeak_id(s.id).variant for s in catalog if s.held_out}
    train = {voices.parse_espeak_id(s.id).variant for s in catalog if not s.held_out}
    assert held == set(voices.HELD_OUT_VARIANTS)
    assert held.isdisjoint(train)
    fraction = sum(s.held_out for s in catalog) / len(catalog)
    assert 0.15 <= fraction <= 0.25


def test_unknown_language_is_rejected() -> None:
    with pytest.raises(ValueError):
        speakers("de")


def test_parse_espeak_id_round_trips_and_rejects_garbage() -> None:
    voice = voices.parse_espeak_id("espeak:ru+f3:s150:p60")
    assert (voice.voice, voice.variant, voice.speed, voice.pitch) == ("ru+f3", "f3", 150, 60)
    for bad in ("festvox-ru:ru_0001", "espeak:ru+f3", "espeak:ru+f3:sfast:p60", ""):
        with pytest.raises(ValueError):
            voices.parse_espeak_id(bad)


@needs_espeak
def test_catalog_voices_and_variants_exist_in_espeak() -> None:
    """espeak-ng silently falls back on an unknown variant: check every one is installed."""
    version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout
    data_dir = Path(version.split("Data at:")[1].strip())
    for variant in voices.VARIANTS:
        assert (data_dir / "voices" / "!v" / variant).is_file(), variant
    for language, bases in voices.BASE_VOICES.items():
        listing = subprocess.run(
            ["espeak-ng", f"--voices={language}"], capture_output=True, text=True
        ).stdout
        known = {line.split()[1] for line in listing.splitlines()[1:] if line.split()}
        assert set(bases) <= known, (language, set(bases) - known)


# --------------------------------------------------------------------------- rendering


@needs_espeak
@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("held_out", [False, True])
def test_render_is_telephone_band_wav(tmp_path: Path, language: str, held_out: bool) -> None:
    out = tmp_path / "call.wav"
    duration = render_speech(TEXTS[language], _first(language, held_out), out)
    params, x = _read(out)
    assert (params.nchannels, params.framerate, params.sampwidth) == (1, 8000, 2)
    assert duration == pytest.approx(params.nframes / 8000)
    assert 0.3 <= duration <= 20.0
    assert np.sqrt(np.mean(x.astype(float) ** 2)) > 300  # not silent
    assert np.max(np.abs(x.astype(int))) < 32767 * 0.95  # no clipping
    power = np.abs(np.fft.rfft(x.astype(float))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / 8000)
    out_of_band = power[(freqs < 200) | (freqs > 3600)].sum() / power.sum()
    assert out_of_band < 1e-3


@needs_espeak
def test_render_is_deterministic(tmp_path: Path) -> None:
    speaker = speakers("ru")[7]
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    render_speech(TEXTS["ru"], speaker, a)
    render_speech(TEXTS["ru"], speaker, b)
    assert a.read_bytes() == b.read_bytes()


@needs_espeak
def test_different_speakers_sound_different(tmp_path: Path) -> None:
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    render_speech(TEXTS["en"], speakers("en")[0], a)
    render_speech(TEXTS["en"], speakers("en")[1], b)
    assert a.read_bytes() != b.read_bytes()


@needs_espeak
def test_longer_text_takes_longer(tmp_path: Path) -> None:
    speaker = _first("ru")
    short = render_speech("Да.", speaker, tmp_path / "short.wav")
    long = render_speech(TEXTS["ru"] + " " + TEXTS["ru"], speaker, tmp_path / "long.wav")
    assert 0.3 <= short < long <= 20.0


@needs_espeak
def test_other_sample_rate_and_nested_output_dir(tmp_path: Path) -> None:
    out = tmp_path / "dt=2026-01-01" / "call.wav"
    render_speech(TEXTS["en"], _first("en"), out, sample_rate=16000)
    params, _ = _read(out)
    assert (params.nchannels, params.framerate) == (1, 16000)


@needs_espeak
def test_text_that_looks_like_an_option_is_spoken(tmp_path: Path) -> None:
    duration = render_speech("-v --help 100%", _first("en"), tmp_path / "x.wav")
    assert duration > 0.3


def test_render_rejects_empty_text_and_non_espeak_speakers(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        render_speech("   ", _first("ru"), tmp_path / "x.wav")
    with pytest.raises(ValueError):
        render_speech("привет", Speaker("festvox-ru:ru_0001", "ru", False), tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()


# --------------------------------------------------------------------------- defects


def test_defect_kinds_are_the_documented_four() -> None:
    assert set(DEFECT_KINDS) == {"empty", "truncated", "not_wav", "wrong_sample_rate"}


def test_empty_defect(tmp_path: Path) -> None:
    out = tmp_path / "empty.wav"
    write_defective_wav("empty", out)
    assert out.stat().st_size == 0
    with pytest.raises((wave.Error, EOFError)), wave.open(str(out), "rb"):
        pass


def test_not_wav_defect(tmp_path: Path) -> None:
    out = tmp_path / "junk.wav"
    write_defective_wav("not_wav", out)
    assert out.stat().st_size > 0
    assert not out.read_bytes().startswith(b"RIFF")
    with pytest.raises((wave.Error, EOFError)), wave.open(str(out), "rb"):
        pass


def test_truncated_defect_header_lies(tmp_path: Path) -> None:
    out = tmp_path / "cut.wav"
    write_defective_wav("truncated", out)
    data = out.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    data_at = data.index(b"data")
    claimed = struct.unpack("<I", data[data_at + 4 : data_at + 8])[0]
    present = len(data) - (data_at + 8)
    assert 0 < present < claimed
    with wave.open(str(out), "rb") as w:  # the header itself parses: the lie is in the size
        assert (w.getnchannels(), w.getframerate()) == (1, 8000)
        assert len(w.readframes(w.getnframes())) < w.getnframes() * 2


def test_wrong_sample_rate_defect_is_valid_44k_stereo(tmp_path: Path) -> None:
    out = tmp_path / "hifi.wav"
    write_defective_wav("wrong_sample_rate", out)
    params, x = _read(out)
    assert (params.framerate, params.nchannels, params.sampwidth) == (44100, 2, 2)
    assert len(x) == params.nframes * 2 and params.nframes > 0
    assert np.abs(x.astype(int)).max() > 1000


@pytest.mark.parametrize("kind", DEFECT_KINDS)
def test_defects_are_deterministic(tmp_path: Path, kind: str) -> None:
    write_defective_wav(kind, tmp_path / "a" / "x.wav")
    write_defective_wav(kind, tmp_path / "b" / "x.wav")
    assert (tmp_path / "a" / "x.wav").read_bytes() == (tmp_path / "b" / "x.wav").read_bytes()


def test_unknown_defect_kind_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_defective_wav("loud", tmp_path / "x.wav")


# --------------------------------------------------------------------------- real speech


def test_real_speech_has_no_english() -> None:
    assert real_speech_utterances("en") == []


@pytest.fixture(scope="module")
def russian_real() -> list[tuple[str, Path, Speaker]]:
    utterances = real_speech_utterances("ru")
    if not utterances:
        pytest.skip("festvox-ru is not installed (scripts/install_system_deps.sh)")
    return utterances


def test_real_speech_files_and_transcripts(russian_real: list[tuple[str, Path, Speaker]]) -> None:
    assert len(russian_real) >= 100
    ids = [speaker.id for _, _, speaker in russian_real]
    assert len(set(ids)) == len(ids)
    for text, path, speaker in russian_real:
        assert text.strip() and "+" not in text
        assert path.is_file() and path.suffix == ".wav"
        assert speaker.id == f"festvox-ru:{path.stem}" and speaker.language == "ru"
    held = sum(s.held_out for _, _, s in russian_real) / len(russian_real)
    assert 0.2 <= held <= 0.4  # test_real (20 %) and validation (10 %) sentences
    for text, _, speaker in russian_real:
        assert speaker.held_out == (real_speech_split(text) != "train")
    assert real_speech_utterances("ru") == russian_real  # deterministic


def test_real_speech_becomes_telephone_audio(
    tmp_path: Path, russian_real: list[tuple[str, Path, Speaker]]
) -> None:
    _, path, _ = russian_real[0]
    out = tmp_path / "real.wav"
    duration = telephone_copy(path, out)
    params, x = _read(out)
    with wave.open(str(path), "rb") as src:
        source_duration = src.getnframes() / src.getframerate()
    assert (params.nchannels, params.framerate, params.sampwidth) == (1, 8000, 2)
    assert duration == pytest.approx(source_duration, abs=0.01)
    assert np.max(np.abs(x.astype(int))) < 32767 * 0.95
