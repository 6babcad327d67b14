# ruff: noqa: RUF003 (Russian letters are the data here)
"""Character durations of festvox-ru's real recordings from their phone labels, and the TTS
data path that trains on them (``real_speech``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.audio import FESTVOX_RU_DIR, real_speech_utterances, telephone_copy
from training.common.audio import read_wav
from training.tts.config import TTSConfig
from training.tts.data import prepare
from training.tts.recorded_durations import (
    Phone,
    align_letters,
    char_ends,
    read_lab,
    recorded_durations,
)

needs_festvox = pytest.mark.skipif(
    not (FESTVOX_RU_DIR / "lab").is_dir(), reason="Debian's festvox-ru is not installed"
)


def test_read_lab(tmp_path: Path) -> None:
    lab = tmp_path / "x.lab"
    lab.write_text("separator ;\nnfields 1\n#\n0.30 125 pau\n0.40 125 m\n0.55 125 a\n")
    assert read_lab(lab) == [Phone("pau", 0.0, 0.3), Phone("m", 0.3, 0.4), Phone("a", 0.4, 0.55)]
    lab.write_text("#\n")
    with pytest.raises(ValueError, match="no phone labels"):
        read_lab(lab)


def test_letters_take_the_phones_they_stand_for() -> None:
    ranges, cost = align_letters("мама", ["m", "a", "mm", "ay"])
    assert ranges == [(0, 1), (1, 2), (2, 3), (3, 4)] and cost == 0.0
    # an iotated vowel is j + vowel, a soft sign is silent
    ranges, cost = align_letters("ель", ["j", "ee", "ll"])
    assert ranges == [(0, 2), (2, 3), (3, 3)] and cost == 0.0
    # a double consonant spoken once: one letter is silent, at a cost
    ranges, cost = align_letters("касса", ["k", "a", "s", "ay"])
    assert [r[1] - r[0] for r in ranges].count(0) == 1 and cost == 1.0
    # a phone no letter stands for joins the letter before it
    ranges, cost = align_letters("да", ["d", "a", "h"])
    assert ranges == [(0, 1), (1, 3)] and cost == 1.0


def test_pauses_go_to_the_spaces_and_punctuation() -> None:
    phones = [
        Phone("pau", 0.0, 0.2),
        Phone("d", 0.2, 0.3),
        Phone("a", 0.3, 0.4),
        Phone("pau", 0.4, 0.7),
        Phone("n", 0.7, 0.8),
        Phone("ee", 0.8, 0.9),
        Phone("pau", 0.9, 1.2),
    ]
    ends, cost = char_ends("Да, нет.", phones, 1.25)
    #                      ^    Д    а    ,     space н    е    т    .     $
    expected = [0.2, 0.3, 0.4, 0.55, 0.7, 0.8, 0.9, 0.9, 1.075, 1.25]
    assert np.allclose(ends, expected) and cost == pytest.approx(1 / 5)  # т is not spoken


@needs_festvox
def test_every_tenth_festvox_utterance_aligns() -> None:
    rate, hop = 8000, 80
    for text, wav, speaker in real_speech_utterances("ru")[::10]:
        n = round(read_wav(str(wav))[0].size * rate / 16000)
        durations = recorded_durations(text, speaker.id, n, rate, hop)
        assert durations is not None, speaker.id
        assert len(durations) == len(text) + 2 and durations.min() >= 0
        assert durations.sum() == 1 + n // hop
        # the leading silence is the first pause label, not the whole utterance
        assert 0 < durations[0] < durations.sum() / 4


@needs_festvox
def test_labels_that_do_not_match_the_text_are_refused() -> None:
    text, _, speaker = real_speech_utterances("ru")[0]
    n = 8000 * 5
    assert recorded_durations(text, speaker.id, n, 8000, 80) is not None
    other_text = real_speech_utterances("ru")[1][0]
    assert recorded_durations(other_text, speaker.id, n, 8000, 80) is None
    assert recorded_durations(text, "espeak:ru+m3:s160:p50", n, 8000, 80) is None


@needs_festvox
def test_prepare_trains_on_real_speech_only_when_asked(tmp_path: Path) -> None:
    text, wav, speaker = real_speech_utterances("ru")[3]
    copy = tmp_path / "real.wav"
    telephone_copy(wav, copy)
    row = {
        "call_id": "c1",
        "text": text,
        "language": "ru",
        "speaker": speaker.id,
        "wav_file": str(copy),
        "split": "train",
    }
    audio = [read_wav(str(copy))]
    skipped = prepare([row], TTSConfig.tiny(), audio)
    assert len(skipped) == 0 and skipped.skipped == {"real speech not enabled": 1}
    examples = prepare([row], TTSConfig.tiny(real_speech=True), audio)
    assert len(examples) == 1 and examples.speakers == [speaker.id]
    assert examples.durations[0].sum() == len(examples.mels[0])
