"""The erasure tests' world: three customers in every layer, the lake sealed
(``tests/governance/test_erasure.py`` builds it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from tests.conftest import SERVER_VARIABLES


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    from tests.governance.test_erasure import _world

    for name in SERVER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VOICEOPS_LAKE_FSYNC", "false")
    return _world(tmp_path / "home")
