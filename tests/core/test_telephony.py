"""The telephone line (core.telephony): profiles, labels, codecs, noise, loss, determinism."""

from __future__ import annotations

import shutil
from collections import Counter

import numpy as np
import pytest

from core import telephony as tel

needs_sox = pytest.mark.skipif(shutil.which("sox") is None, reason="sox missing")


def _speech_like(rate: int = 16000, seconds: float = 2.0, seed: int = 0) -> np.ndarray:
    """Harmonics of a gliding 120 Hz voice, amplitude-modulated like syllables: int16."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    x = sum(np.sin(k * phase) / k for k in range(1, 20)) * (0.55 + 0.45 * np.sin(2 * np.pi * 4 * t))
    x = 0.5 * x / np.max(np.abs(x)) + rng.normal(0, 0.002, len(t))
    return np.round(x * 32767).astype("<i2")


def _snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    noise = noisy - clean
    return 10 * np.log10(np.mean(clean**2) / np.mean(noise**2))


# --------------------------------------------------------------------------- profiles


def test_labels_round_trip_and_clean_is_clean() -> None:
    assert tel.parse_line("clean") == tel.CLEAN_LINE and tel.CLEAN_LINE.label == "clean"
    drawn = [tel.draw_line(seed, 1.0) for seed in range(200)]
    assert all(not p.is_clean for p in drawn)
    for profile in drawn:
        assert tel.parse_line(profile.label) == profile
    label = "gsm:band=250-3300:loss=0.020:snr=12:noise=babble:reverb=0.30:clip=0.00"
    assert tel.parse_line(label).label == label


@pytest.mark.parametrize(
    "label",
    [
        "",
        "noisy",
        "mp3:band=250-3300:loss=0.020:snr=12:noise=babble:reverb=0.30:clip=0.00",
        "gsm:band=3300-250:loss=0.020:snr=12:noise=babble:reverb=0.30:clip=0.00",
        "gsm:band=250-3300:loss=0.900:snr=12:noise=babble:reverb=0.30:clip=0.00",
        "gsm:band=250-3300:loss=0.020:snr=12:noise=music:reverb=0.30:clip=0.00",
    ],
)
def test_bad_labels_are_rejected_with_the_label(label: str) -> None:
    with pytest.raises(ValueError, match="line label"):
        tel.parse_line(label)


def test_drawn_lines_cover_the_documented_ranges() -> None:
    profiles = [tel.draw_line(seed, tel.DEGRADED_LINE_SHARE) for seed in range(2000)]
    clean = sum(p.is_clean for p in profiles) / len(profiles)
    assert clean == pytest.approx(1 - tel.DEGRADED_LINE_SHARE, abs=0.04)
    degraded = [p for p in profiles if not p.is_clean]
    assert Counter(p.codec for p in degraded).keys() == {"ulaw", "alaw", "gsm"}
    assert Counter(p.noise for p in degraded).keys() == {"line", "babble"}
    assert all(200 <= p.band_low_hz <= 400 and 3000 <= p.band_high_hz <= 3600 for p in degraded)
    assert all(5 <= p.snr_db <= 30 and 0 <= p.loss <= 0.05 for p in degraded)
    assert 0.3 < sum(p.loss > 0 for p in degraded) / len(degraded) < 0.9
    assert 0.3 < sum(p.reverb > 0 for p in degraded) / len(degraded) < 0.7
    assert 0.02 < sum(p.clip > 0 for p in degraded) / len(degraded) < 0.2
    assert [tel.draw_line(7, 0.7) for _ in range(3)] == [tel.draw_line(7, 0.7)] * 3


# --------------------------------------------------------------------------- impairments


@needs_sox
@pytest.mark.parametrize("codec", ["ulaw", "alaw", "gsm"])
def test_codec_round_trip_changes_the_samples_but_keeps_the_speech(codec: str) -> None:
    x = tel.bandpass_resample(_speech_like().astype(float), 16000, 8000, 300, 3400)
    pcm = np.round(x / np.max(np.abs(x)) * 0.6 * 32767).astype("<i2")
    coded = tel.codec_round_trip(pcm, 8000, codec)
    assert len(coded) == len(pcm) and coded.dtype == np.dtype("<i2")
    changed = np.mean(coded != pcm)
    assert changed > 0.5, f"{codec} left {1 - changed:.0%} of samples untouched"
    snr = _snr_db(pcm.astype(float), coded.astype(float))
    # G.711 keeps ~35 dB; GSM 06.10 is a vocoder (waveform SNR near 0 dB, still correlated)
    assert snr > (25 if codec != "gsm" else -3), f"{codec}: {snr:.1f} dB"
    assert np.corrcoef(pcm, coded)[0, 1] > (0.99 if codec != "gsm" else 0.3)
    assert tel.codec_round_trip(pcm, 8000, "pcm") is pcm


def test_codec_errors_are_clear() -> None:
    pcm = np.zeros(800, dtype="<i2")
    with pytest.raises(ValueError, match="unknown codec"):
        tel.codec_round_trip(pcm, 8000, "mp3")
    with pytest.raises(ValueError, match="8000 Hz"):
        tel.codec_round_trip(pcm, 16000, "gsm")


@pytest.mark.parametrize("kind", ["line", "babble"])
@pytest.mark.parametrize("snr", [5, 12, 30])
def test_noise_is_added_at_the_asked_snr(kind: str, snr: int) -> None:
    x = _speech_like(8000).astype(float) / 32768
    rng = np.random.default_rng(3)
    noisy = tel.add_noise(x, tel.noise_like(x, 8000, kind, rng), snr)
    assert _snr_db(x, noisy) == pytest.approx(snr, abs=0.1)


def test_babble_is_speech_shaped_not_white() -> None:
    x = _speech_like(8000).astype(float) / 32768
    babble = tel.noise_like(x, 8000, "babble", np.random.default_rng(1))
    white = tel.noise_like(x, 8000, "line", np.random.default_rng(1))

    def low_share(y: np.ndarray) -> float:  # energy below 1 kHz
        spectrum = np.abs(np.fft.rfft(y)) ** 2
        return spectrum[: len(spectrum) // 4].sum() / spectrum.sum()

    assert low_share(babble) > 0.8 and low_share(white) < 0.4
    with pytest.raises(ValueError, match="noise kind"):
        tel.noise_like(x, 8000, "music", np.random.default_rng(1))


def test_packet_loss_silences_whole_20ms_frames() -> None:
    x = np.full(8000 * 10, 1000, dtype="<i2")
    y, lost = tel.drop_packets(x, 8000, 0.05, np.random.default_rng(5))
    frame = 160
    assert 0.02 < len(lost) / (len(x) // frame) < 0.09
    for i in range(len(x) // frame):
        chunk = y[i * frame : (i + 1) * frame]
        assert (chunk == 0).all() if i in lost else (chunk == 1000).all()
    assert tel.drop_packets(x, 8000, 0.0, np.random.default_rng(5))[1] == []


def test_reverberation_spreads_energy_in_time() -> None:
    rate = 8000
    click = np.zeros(rate)
    click[100] = 1.0
    wet = tel.reverberate(click, rate, 0.5, np.random.default_rng(0))
    tail = wet[100 + int(0.01 * rate) : 100 + int(0.3 * rate)]
    assert np.sum(tail**2) > 0.05 * np.sum(wet**2)
    assert abs(wet[100]) == np.max(np.abs(wet))  # the direct sound is the loudest


# --------------------------------------------------------------------------- the chain


@needs_sox
def test_apply_line_is_deterministic_per_seed_and_differs_across_seeds() -> None:
    x = _speech_like()
    profile = tel.parse_line(
        "gsm:band=250-3300:loss=0.030:snr=12:noise=babble:reverb=0.30:clip=0.40"
    )
    first = tel.apply_line(x, 16000, 8000, profile, seed=11)
    assert np.array_equal(first, tel.apply_line(x, 16000, 8000, profile, seed=11))
    assert not np.array_equal(first, tel.apply_line(x, 16000, 8000, profile, seed=12))
    assert len(first) == len(x) // 2 and first.dtype == np.dtype("<i2")
    assert np.max(np.abs(first.astype(int))) <= 0.8 * 32767


@needs_sox
def test_degraded_line_is_worse_than_clean_and_clean_matches_the_band() -> None:
    x = _speech_like()
    reference = tel.bandpass_resample(x.astype(float), 16000, 8000, 300, 3400)
    clean = tel.apply_line(x, 16000, 8000, tel.CLEAN_LINE, seed=1).astype(float)
    noisy_profile = tel.parse_line(
        "ulaw:band=400-3000:loss=0.050:snr=5:noise=line:reverb=0.00:clip=0.00"
    )
    noisy = tel.apply_line(x, 16000, 8000, noisy_profile, seed=1).astype(float)

    def fit_snr(y: np.ndarray) -> float:  # SNR after the best gain on the reference
        gain = np.dot(y, reference) / np.dot(reference, reference)
        return _snr_db(gain * reference, y)

    assert fit_snr(clean) > 25
    assert fit_snr(noisy) < 6


@needs_sox
def test_clipping_flattens_the_peaks() -> None:
    x = _speech_like()
    clipped = tel.apply_line(
        x,
        16000,
        8000,
        tel.parse_line("alaw:band=300-3400:loss=0.000:snr=30:noise=line:reverb=0.00:clip=0.30"),
        seed=2,
    ).astype(int)
    peak = np.max(np.abs(clipped))
    assert np.mean(np.abs(clipped) > 0.9 * peak) > 0.05  # many samples sit at the ceiling


def test_silent_audio_and_low_rates_are_refused() -> None:
    with pytest.raises(ValueError, match="silent"):
        tel.apply_line(np.zeros(1600, dtype="<i2"), 16000, 8000, tel.CLEAN_LINE, seed=0)
    with pytest.raises(ValueError, match="sample_rate"):
        tel.apply_line(_speech_like(), 16000, 4000, tel.CLEAN_LINE, seed=0)
