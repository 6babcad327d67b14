"""The training readers open sealed recordings, and leave out (count, log) erased ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.sealing import Sealer
from core.settings import Settings
from tests.factories import wav_bytes
from versioning.lake.factory import open_lake


@pytest.fixture
def rows(tmp_path: Path) -> tuple[Settings, list[dict]]:
    """Three rows whose recordings are in the lake: sealed (C1), plain (C2), and sealed under
    a key destroyed since (C3)."""
    settings = Settings(home=tmp_path / "home", lake_backend="local", lake_fsync=False)
    lake, repo = open_lake(settings), settings.lake_repository
    lake.create_repository(repo)
    sealer = Sealer.from_settings(settings)
    objects = {
        "raw/recordings/dt=2026-01-01/C1.wav": sealer.seal_blob("CUST-1", wav_bytes(frames=800)),
        "raw/recordings/dt=2026-01-01/C2.wav": wav_bytes(frames=1600),
        "raw/recordings/dt=2026-01-01/C3.wav": sealer.seal_blob("CUST-3", wav_bytes(frames=2400)),
    }
    lake.upload_many(repo, "main", list(objects.items()))
    commit = lake.commit(repo, "main", "recordings").id
    sealer.store.destroy("CUST-3")
    return settings, [
        {
            "call_id": path.rsplit("/", 1)[-1][:-4],
            "audio_path": path,
            "audio_lake_commit": commit,
            "text": "привет",
            "language": "ru",
            "transcript": "привет",
            "transcript_was_redacted": False,
        }
        for path in objects
    ]


def test_stt_rows_open_sealed_audio_and_drop_erased_rows(rows, caplog) -> None:
    from training.stt.data import attach_audio

    settings, data = rows
    kept = attach_audio(data, settings)
    assert kept is data and [row["call_id"] for row in data] == ["C1", "C2"]
    assert [len(row["audio"]) for row in data] == [800, 1600]
    assert "1 row(s)" in caplog.text and "erased" in caplog.text


def test_stt_prepare_counts_erased_rows(rows, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.settings import get_settings
    from training.stt.data import prepare

    settings, data = rows
    monkeypatch.setenv("VOICEOPS_HOME", str(settings.home))
    monkeypatch.setenv("VOICEOPS_LAKE_FSYNC", "false")
    get_settings.cache_clear()
    try:
        prepared = prepare(data)
    finally:
        get_settings.cache_clear()
    assert prepared.excluded["erased"] == 1 and prepared.keys == ["C1", "C2"]


def test_tts_audio_stays_aligned_with_the_rows_left(rows) -> None:
    from training.tts.data import attach_audio

    settings, data = rows
    audio = attach_audio(data, settings)
    assert [row["call_id"] for row in data] == ["C1", "C2"]
    assert [(len(wave), rate) for wave, rate in audio] == [(800, 8000), (1600, 8000)]
