"""TTS reads voice-corpus rows as the mart serves them (``source`` 'voice_corpus'): festvox-ru
utterances align with their phone labels, the natural English voice with Festival's timings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from core.audio import FESTVOX_RU_DIR
from ingestion.voice_corpus.delivery import AUDIO_DIR, MANIFEST, write_delivery
from training.common.audio import read_wav
from training.tts.config import TTSConfig
from training.tts.data import example_keys, prepare, scored_splits, training_splits

pytestmark = pytest.mark.skipif(
    not FESTVOX_RU_DIR.is_dir() or shutil.which("festival") is None,
    reason="festvox-ru or festival missing",
)


def _mart_rows(directory: Path) -> list[dict]:
    """The delivery's utterances as tts_examples rows (the WAV read locally)."""
    rows = []
    for line in (directory / MANIFEST).read_text(encoding="utf-8").splitlines():
        utterance = json.loads(line)
        rows.append(
            {
                "example_id": utterance["utterance_id"],
                "source": "voice_corpus",
                "call_id": None,
                "text": utterance["text"],
                "language": utterance["language"],
                "speaker": utterance["speaker"],
                "is_real_speech": utterance["speaker"].startswith("festvox-ru:"),
                "wav_file": str(directory / AUDIO_DIR / utterance["audio_file"]),
                "split": "train",
            }
        )
    return rows


def test_corpus_rows_align_by_their_speaker(tmp_path: Path) -> None:
    write_delivery(tmp_path, russian=2, english=2)
    rows = _mart_rows(tmp_path)
    audio = [read_wav(Path(row["wav_file"])) for row in rows]
    config = TTSConfig.tiny(real_speech=True, natural_voices=True)
    examples = prepare(rows, config, audio)
    assert not examples.skipped
    assert example_keys(rows) == [row["example_id"] for row in rows]
    assert sorted(examples.keys) == sorted(example_keys(rows))
    for text, durations, mel in zip(examples.texts, examples.durations, examples.mels, strict=True):
        assert len(durations) == len(text) + 2  # ^ text $
        assert abs(int(np.sum(durations)) - len(mel)) <= 1  # the durations cover the recording
        assert (durations[1:-1] > 0).sum() > len(text) // 2  # letters take time


def test_without_the_flags_corpus_rows_are_counted_not_aligned(tmp_path: Path) -> None:
    write_delivery(tmp_path, russian=1, english=1)
    rows = _mart_rows(tmp_path)
    audio = [read_wav(Path(row["wav_file"])) for row in rows]
    examples = prepare(rows, TTSConfig.tiny(real_speech=False, natural_voices=False), audio)
    assert len(examples) == 0
    assert examples.skipped == {"real speech not enabled": 1, "natural voices not enabled": 1}


def _mixed_rows() -> list[dict]:
    """Call and voice-corpus rows of every split (only what the split routing reads)."""
    return [
        {"example_id": f"{source}-{split}", "source": source, "split": split}
        for source in ("calls", "voice_corpus")
        for split in ("train", "validation", "test")
    ]


def test_the_corpus_is_trained_on_only_with_voice_corpus_and_only_its_train_rows() -> None:
    rows = _mixed_rows()

    def ids(splits: dict) -> dict:
        return {name: [row["example_id"] for row in chosen] for name, chosen in splits.items()}

    calls_only = {s: [f"calls-{s}"] for s in ("train", "validation", "test")}
    assert ids(training_splits(rows, TTSConfig.tiny())) == calls_only
    with_corpus = ids(training_splits(rows, TTSConfig.tiny(voice_corpus=True)))
    assert with_corpus == calls_only | {"train": ["calls-train", "voice_corpus-train"]}
    assert ids(scored_splits(rows)) == calls_only
    assert not TTSConfig.demo().voice_corpus


def test_every_scoring_path_scores_calls_rows_only() -> None:
    from training.families import family

    rows = _mixed_rows()
    tts = family("tts")
    assert [row["example_id"] for row in tts.test_splits(rows)["test"]] == ["calls-test"]
    assert all(
        row["source"] == "calls" for chosen in tts.scored_splits(rows).values() for row in chosen
    )


def test_the_training_run_scores_intelligibility_on_calls_rows_only(monkeypatch, tmp_path):
    """The pipeline's run (``training.tts.train.run``) hands the STT the calls' test rows:
    corpus test rows (long read sentences, a studio voice) would move ``cer_tts`` and the gate."""
    from types import SimpleNamespace

    import training.tts.train as tts_train

    scored: list[list[str]] = []

    def fake_intelligibility(serving, stt_model, rows):
        scored.append([row["example_id"] for row in rows])
        return {"all": {"cer_tts": 0.1}}

    result = SimpleNamespace(
        serving=None, metrics={}, history={}, seconds=0.0, params=0, epochs_run=0, skipped={}
    )
    monkeypatch.setattr(tts_train, "train", lambda *args, **kwargs: result)
    monkeypatch.setattr(tts_train, "export", lambda serving, path: path)
    monkeypatch.setattr(tts_train, "intelligibility", fake_intelligibility)
    summary = tts_train.run(_mixed_rows(), TTSConfig.tiny(), tmp_path, stt_model=tmp_path)
    assert scored == [["calls-test"]]
    assert summary.scores["test"]["all"]["cer_tts"] == 0.1
