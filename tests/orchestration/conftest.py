"""Fixtures of the pipeline tests: a scratch VOICEOPS_HOME with the embedded engines."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.settings import Settings, get_settings

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VOICEOPS_LAKE_FSYNC", "false")
    monkeypatch.setenv("VOICEOPS_CRM_API_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("DBT_TARGET", raising=False)
    shared = os.environ.get("VOICEOPS_TEST_AIRBYTE_INSTALL_DIR")
    install = Path(shared) if shared else REPO_ROOT / ".voiceops" / "airbyte-test"
    monkeypatch.setenv("AIRBYTE_INSTALL_DIR", str(install))
    get_settings.cache_clear()
    yield Settings()
    get_settings.cache_clear()
