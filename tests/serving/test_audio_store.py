"""Response audio pruning while other workers prune the same directory."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from serving.app_state import AudioStore


def test_a_file_another_worker_pruned_meanwhile_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = AudioStore(tmp_path, keep=2)
    for i in range(5):
        path = store.save(f"{i:032x}", np.zeros(160, dtype=np.float32), 16000)
        os.utime(path, (i, i))
    gone = tmp_path / f"{0:032x}.wav"
    real_stat = Path.stat

    def stat(path: Path, **kwargs):  # another worker unlinks it between glob and stat
        if path == gone:
            path.unlink(missing_ok=True)
        return real_stat(path, **kwargs)

    monkeypatch.setattr(Path, "stat", stat)
    store._prune()
    assert sorted(p.name for p in tmp_path.glob("*.wav")) == [f"{3:032x}.wav", f"{4:032x}.wav"]
