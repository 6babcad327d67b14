"""The models a version is scored with outside a training run (``registry.used_models``):
the path given, else the registry's champion of that family, else a clear error, so an
imported or compared TTS is never scored without its STT (its ``cer_*`` metrics missing)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from core.errors import InputError
from core.settings import Settings
from registry import used_models
from registry.used_models import models_for_scoring
from training.families import family


def _saved_model(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "saved_model.pb").write_bytes(b"\x08\x01")
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


def test_a_given_stt_model_is_used_and_recorded(tmp_path: Path, settings: Settings) -> None:
    run_dir = tmp_path / "run"
    stt = _saved_model(run_dir / "saved_model")
    models, provenance = models_for_scoring(family("tts"), settings, {"stt": run_dir})
    assert models == {"stt_model": stt}
    assert provenance == {"stt": str(run_dir)}


def test_a_family_scored_alone_needs_no_model(settings: Settings) -> None:
    assert models_for_scoring(family("nlu"), settings) == ({}, {})


def test_a_model_the_family_does_not_use_is_refused(tmp_path, settings) -> None:
    with pytest.raises(InputError, match="nlu is not scored with the stt model"):
        models_for_scoring(family("nlu"), settings, {"stt": _saved_model(tmp_path / "s")})


def test_a_path_without_a_saved_model_is_refused(tmp_path, settings) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no SavedModel there"):
        models_for_scoring(family("tts"), settings, {"stt": tmp_path / "empty"})


def test_without_a_path_the_stt_champion_is_used(monkeypatch, tmp_path, settings) -> None:
    champion = SimpleNamespace(version="4")
    stored = _saved_model(tmp_path / "champion")
    asked: list[tuple[str, str]] = []

    def by_alias(mlflow, model: str, alias: str):
        asked.append((model, alias))
        return champion

    monkeypatch.setattr(used_models, "by_alias", by_alias)
    monkeypatch.setattr(used_models, "model_dir", lambda version, s: stored)
    models, provenance = models_for_scoring(family("tts"), settings)
    assert asked == [(family("stt").model_name, "champion")]
    assert models == {"stt_model": stored}
    assert provenance == {"stt": f"{family('stt').model_name}@champion v4"}


def test_without_a_path_or_a_champion_scoring_a_tts_is_refused(settings) -> None:
    with pytest.raises(InputError, match="pass --stt-model"):
        models_for_scoring(family("tts"), settings)


@pytest.mark.parametrize("command", [["import", "tts", "--from", "x"], ["compare", "tts", "2"]])
def test_cli_tts_without_an_stt_is_a_one_line_error(tmp_path, monkeypatch, command) -> None:
    from voiceops.cli import app

    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(app, ["models", *command])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pass --stt-model" in lines[0], result.stderr
