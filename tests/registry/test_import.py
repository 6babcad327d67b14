"""Importing a pretrained model as a version: real PocketSphinx decoding of espeak-rendered
English, a real MLflow registry on SQLite, the real gate (smoke test in a fresh process).

The gate cannot be bypassed: with the project's thresholds an English-only import is
refused (no Russian CER), gets no alias and is not served; a passing policy promotes it; a
stored file changed after import is refused at load; ``reproduce`` says where it came from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from registry.errors import RegistryError
from registry.external import MANIFEST, build_artifact, files_sha256, read_manifest
from registry.external_eval import stt_scores
from registry.import_version import import_version
from registry.loading import clear_cache, load_model
from registry.mlflow_model import saved_model_dir, stored_model
from registry.policy import load_policy, parse_policy
from registry.tracking import client
from registry.versions import aliases, get_version
from tests.registry.conftest import World
from tests.registry.speech import spoken_rows

SOURCE = "pocketsphinx-en-us"


@pytest.fixture(scope="module")
def stt_rows(tmp_path_factory) -> list[dict[str, Any]]:
    """Test rows of espeak-rendered English and Russian (``tests.registry.speech``)."""
    return spoken_rows(tmp_path_factory.mktemp("speech"), "test")


@pytest.fixture(scope="module")
def sphinx_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sphinx") / "model"


def _policy(max_cer: float, **languages: float) -> Any:
    """An STT gate with CER ceilings per language and a given smoke CER limit."""
    return parse_policy(
        {
            "families": {
                "stt": {
                    "metrics": {"cer": "lower"},
                    "maximum": {lang: {"cer": value} for lang, value in languages.items()},
                    "latency_budget_ms": 60000,
                }
            },
            "smoke": {"repeats": 1, "timeout_s": 180, "limits": {"stt_max_cer": max_cer}},
        },
        sha256="test-import-policy",
        source="tests",
    )


def test_artifact_records_source_licence_and_hash(sphinx_dir: Path) -> None:
    manifest = build_artifact("stt", SOURCE, sphinx_dir)
    assert manifest.source == "pypi:pocketsphinx==5.1.1 model en-us"
    assert manifest.licence == "BSD-2-Clause" and manifest.languages == ["en"]
    assert "Redistribution and use" in (sphinx_dir / "LICENSE").read_text()
    assert "Alpha Cephei" in (sphinx_dir / "en-us" / "README").read_text()
    assert (manifest.sha256, manifest.files) == files_sha256(sphinx_dir)
    assert read_manifest(sphinx_dir) == manifest
    with pytest.raises(RegistryError, match="pocketsphinx-en-us is a stt model, not nlu"):
        build_artifact("nlu", SOURCE, sphinx_dir.parent / "other")


def test_pocketsphinx_transcribes_english_and_skips_russian(sphinx_dir, stt_rows) -> None:
    if not sphinx_dir.exists():
        build_artifact("stt", SOURCE, sphinx_dir)
    test = [r for r in stt_rows if r["split"] == "test"]
    scores = stt_scores(sphinx_dir, test)
    russian = sum(1 for r in test if r["language"] == "ru")
    assert scores["ru"] == {"n": 0.0, "skipped": float(russian)}
    english = sum(1 for r in test if r["language"] == "en")
    assert scores["en"]["n"] == scores["all"]["n"] == english > 0
    # real decoding: words come out, closer to the references than no answer (CER 1.0)
    assert 0.0 < scores["en"]["cer"] < 0.95, scores


def test_import_refused_by_the_project_gate_is_not_served(
    sqlite_world: World, stt_rows, monkeypatch
) -> None:
    settings = sqlite_world.settings
    result = import_version(
        "stt",
        SOURCE,
        settings=settings,
        rows=stt_rows,
        evaluated_commit=sqlite_world.published,
        policy=load_policy(settings.gate_policy),  # thresholds.yaml: cer[ru] <= 0.25
    )
    rules = {r.rule: r for r in result.verdict.rules}
    assert not result.verdict.passed and result.aliases == {}
    assert rules["lineage"].passed and "BSD-2-Clause" in rules["lineage"].reason
    assert not rules["thresholds"].passed
    assert "cer[ru] missing (ru not supported:" in rules["thresholds"].reason
    mlflow = client(settings)
    version = get_version(mlflow, "voicebot-stt", result.version)
    assert version.tags["gate.verdict"] == "refused"
    assert version.tags["lineage.kind"] == "external"
    assert version.tags["languages"] == "en"
    assert version.tags["lineage.source"] == "pypi:pocketsphinx==5.1.1 model en-us"
    stored = saved_model_dir(stored_model(version, settings))
    assert version.tags["lineage.artifact_sha256"] == read_manifest(stored).sha256
    clear_cache()
    with pytest.raises(RegistryError, match="refused by the gate"):
        load_model("stt", version=result.version, settings=settings)
    from registry.reproduce import reproduce

    with pytest.raises(RegistryError, match="imported model, not reproducible from the lake"):
        reproduce(settings, "stt", result.version)
    again = import_version(
        "stt", SOURCE, settings=settings, rows=stt_rows, policy=load_policy(settings.gate_policy)
    )
    assert again.version == result.version  # the same files are the same version
    _check_cli(settings.home, result.version, monkeypatch)


def _check_cli(home: Path, version: str, monkeypatch) -> None:
    """``models show`` names the source, licence and hash; ``reproduce`` is one clear error."""
    from voiceops.cli import app

    monkeypatch.setenv("VOICEOPS_HOME", str(home))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("COLUMNS", "400")  # one tree node per line
    runner = CliRunner()
    shown = runner.invoke(app, ["models", "show", "stt", version])
    assert shown.exit_code == 0, shown.stderr
    text = " ".join(shown.stdout.split())
    assert "imported pypi:pocketsphinx==5.1.1 model en-us" in text
    assert "licence BSD-2-Clause, languages en" in text and "not reproducible" in text
    refused = runner.invoke(app, ["models", "reproduce", "stt", version])
    assert refused.exit_code == 1
    assert "imported model, not reproducible from the lake" in refused.stderr


def test_import_failing_smoke_is_refused(sqlite_world: World, stt_rows) -> None:
    """Thresholds met, but the smoke test's CER limit is not: refused, no alias."""
    result = import_version(
        "stt",
        SOURCE,
        settings=sqlite_world.settings,
        rows=stt_rows,
        policy=_policy(0.0, en=1.0),
    )
    rules = {r.rule: r for r in result.verdict.rules}
    assert rules["thresholds"].passed and not rules["smoke"].passed
    assert "STT CER" in rules["smoke"].reason and result.aliases == {}


def test_passing_import_is_champion_served_and_guarded(sqlite_world: World, stt_rows) -> None:
    settings = sqlite_world.settings
    result = import_version(
        "stt", SOURCE, settings=settings, rows=stt_rows, policy=_policy(1.0, en=1.0)
    )
    assert result.verdict.passed, result.verdict.reasons
    assert aliases(client(settings), "voicebot-stt") == {"champion": result.version}
    clear_cache()
    model = load_model("stt", settings=settings)
    from training.stt.export import transcribe

    english = next(r for r in stt_rows if r["language"] == "en" and r["split"] == "test")
    heard = transcribe(model, [english["audio"]], english["audio_rate"])
    assert heard[0].strip()
    # a stored model file changed after the gate: refused at load
    version = get_version(client(settings), "voicebot-stt", result.version)
    stored = saved_model_dir(stored_model(version, settings))
    dictionary = stored / "cmudict-en-us.dict"
    dictionary.write_text(dictionary.read_text() + "voiceops V OY S AA P S\n")
    clear_cache()
    with pytest.raises(RegistryError, match="imported files changed"):
        load_model("stt", settings=settings)


def test_saved_model_with_another_signature_is_rejected(tmp_path, nlu_good) -> None:
    with pytest.raises(RegistryError, match="a stt model takes"):
        build_artifact("stt", str(nlu_good.model_path), tmp_path / "model")
    with pytest.raises(RegistryError, match="neither a known pretrained model"):
        build_artifact("stt", str(tmp_path / "missing"), tmp_path / "model2")
    manifest = build_artifact("nlu", str(nlu_good.model_path), tmp_path / "nlu", licence="MIT")
    assert manifest.engine == "saved_model" and manifest.source.startswith("local:")
    assert json.loads((tmp_path / "nlu" / MANIFEST).read_text())["licence"] == "MIT"


def test_cli_import_error_is_one_line(tmp_path, monkeypatch) -> None:
    from voiceops.cli import app

    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(app, ["models", "import", "stt", "--from", str(tmp_path / "x")])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "neither a known pretrained model" in lines[0], result.stderr


def test_cli_compare_error_is_one_line(tmp_path, monkeypatch) -> None:
    from voiceops.cli import app

    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(app, ["models", "compare", "stt", "7", "6"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no version of voicebot-stt" in lines[0], result.stderr
