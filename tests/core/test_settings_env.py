"""Settings read from the environment: an empty variable counts as unset."""

from __future__ import annotations

from pathlib import Path

from core.settings import Settings


def test_an_empty_variable_keeps_the_default(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path))
    monkeypatch.setenv("VOICEOPS_GATE_POLICY", "")
    monkeypatch.setenv("VOICEOPS_AIRBYTE_LAKE_ACCESS_KEY_ID", "")
    monkeypatch.setenv("LAKECTL_CREDENTIALS_ACCESS_KEY_ID", "AKIALAKECTL")
    settings = Settings()
    assert settings.gate_policy is None  # not Path(".")
    assert settings.airbyte_lake_access_key_id == "AKIALAKECTL"
