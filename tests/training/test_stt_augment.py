"""STT training augmentation: vocal tract length perturbation (VTLP) moves formants, not
the band's ends, and leaves an unwarped spectrum as it was."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from training.stt.augment import (  # noqa: E402
    random_warp_matrix,
    vtlp_source_bins,
    warped_mel_matrix,
)
from training.stt.config import STTConfig  # noqa: E402
from training.stt.features import (  # noqa: E402
    FFT_LENGTH,
    FRAME_LENGTH,
    FRAME_STEP,
    MODEL_RATE,
    log_mel,
    mel_matrix,
)

N_MELS = 48


def _tone_peak(hz: float, matrix=None) -> int:
    """The mel bin where a pure tone's mean log-mel (before normalization) peaks."""
    t = np.arange(MODEL_RATE) / MODEL_RATE
    wave = tf.constant(np.sin(2 * np.pi * hz * t)[None, :], tf.float32)
    stft = tf.signal.stft(wave, FRAME_LENGTH, FRAME_STEP, FFT_LENGTH)
    power = tf.square(tf.abs(stft))[0]
    mel = tf.tensordot(power, mel_matrix(N_MELS) if matrix is None else matrix, 1)
    return int(tf.argmax(tf.reduce_mean(mel, axis=0)))


def test_factor_one_is_the_plain_mel_matrix() -> None:
    warped = warped_mel_matrix(tf.constant(1.0), N_MELS)
    np.testing.assert_allclose(warped.numpy(), mel_matrix(N_MELS).numpy(), atol=1e-6)


@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_a_warp_moves_a_formant_by_its_factor_and_keeps_nyquist(factor: float) -> None:
    source = vtlp_source_bins(tf.constant(factor)).numpy()
    nyquist = FFT_LENGTH // 2
    assert source[0] == 0.0 and source[-1] == pytest.approx(nyquist)
    assert np.all(np.diff(source) > 0)  # monotonic: no frequency read twice
    # below the knee bin g reads g / factor
    assert source[40] == pytest.approx(40 / factor, rel=1e-5)
    # a 1 kHz tone shows up where a (1000 * factor) Hz tone does unwarped
    moved = _tone_peak(1000.0, warped_mel_matrix(tf.constant(factor), N_MELS))
    assert moved == _tone_peak(1000.0 * factor)
    assert moved != _tone_peak(1000.0)


def test_training_draws_a_warp_only_when_configured() -> None:
    assert random_warp_matrix(STTConfig.tiny()) is None
    config = STTConfig.tiny(vtlp_range=0.1)
    tf.random.set_seed(0)
    wave = tf.constant(np.random.default_rng(0).normal(size=(1, 4000)), tf.float32)
    lengths = tf.constant([4000])
    plain, frames = log_mel(wave, lengths, config.n_mels)
    warped, warped_frames = log_mel(wave, lengths, config.n_mels, random_warp_matrix(config))
    assert warped.shape == plain.shape and int(warped_frames[0]) == int(frames[0])
    assert not np.allclose(warped.numpy(), plain.numpy())
