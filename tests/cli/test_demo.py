"""``voiceops demo``: the lake round trip works on a fresh home and again on the same home."""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.settings import Settings, get_settings
from versioning.lake import Lake, open_lake
from voiceops.cli import _demo_data, app


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("VOICEOPS_HOME", str(home))
    monkeypatch.setenv("VOICEOPS_LAKE_FSYNC", "false")
    monkeypatch.delenv("VOICEOPS_LAKE_BACKEND", raising=False)
    monkeypatch.delenv("VOICEOPS_LAKE_REPOSITORY", raising=False)
    get_settings.cache_clear()
    return home


def _calls_path(lake: Lake, repo: str) -> str:
    paths = [o.path for o in lake.list_objects(repo, "main", "raw/calls/")]
    assert len(paths) == 1 and paths[0].endswith("/part-0.jsonl")
    return paths[0]


def test_demo_runs_twice_and_shows_versioning(home: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "lake-tour"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["demo", "lake-tour"])
    assert second.exit_code == 0, second.output
    assert "exists, reusing it" in second.stdout
    for out in (first.stdout, second.stdout):
        assert "step 9/9" in out and "summary" in out and "fsck" in out
        assert "Traceback" not in out

    lake = open_lake(Settings())
    repo = "lake-tour"  # its own repository: the pipeline's main takes only audited data
    assert [r.id for r in lake.list_repositories()] == [repo]
    assert [b.id for b in lake.list_branches(repo)] == ["main"]  # demo branches cleaned up
    tags = lake.list_tags(repo)
    assert len(tags) == 2

    # time travel: each tag holds the data as ingested, main holds the reviewer's correction
    calls_path = _calls_path(lake, repo)
    latest_tag = max(tags, key=lambda t: t.id).id
    at_tag = _demo_data.read_jsonl(lake.read_bytes(repo, latest_tag, calls_path))
    at_main = _demo_data.read_jsonl(lake.read_bytes(repo, "main", calls_path))
    assert at_tag[0]["intent"] != at_main[0]["intent"]
    assert at_main[0]["label_source"] == "reviewer"
    assert "label_source" not in at_tag[0]
    assert at_tag[1:] == at_main[1:]

    ingest = lake.get_commit(repo, latest_tag)
    assert ingest.metadata["records.calls"] == str(len(at_tag))
    assert ingest.metadata["run_id"] == at_tag[0]["ingest_run_id"]
    assert {"source", "records.tickets", "records.recordings"} <= set(ingest.metadata)
    assert lake.fsck(repo, verify_content=True).ok

    wav_path = next(o.path for o in lake.list_objects(repo, "main", "raw/recordings/"))
    with wave.open(io.BytesIO(lake.read_bytes(repo, "main", wav_path))) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 16_000)
        assert wav.getnframes() == 16_000


def test_the_tour_never_touches_the_pipelines_repository(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICEOPS_LAKE_REPOSITORY", "cc-staging")
    result = CliRunner().invoke(app, ["demo", "lake-tour", "--seed", "3", "--repository", "tour-2"])
    assert result.exit_code == 0, result.output
    lake = open_lake(Settings())
    assert [r.id for r in lake.list_repositories()] == ["tour-2"]
    assert (home / "lake" / "tour-2").is_dir()


def test_sample_data_is_seeded() -> None:
    from datetime import date

    day = date(2024, 5, 1)
    a = _demo_data.call_records(day, "run-1", seed=7)
    b = _demo_data.call_records(day, "run-1", seed=7)
    c = _demo_data.call_records(day, "run-1", seed=8)
    assert a == b and a != c
    assert all(json.loads(line) for line in _demo_data.jsonl(a).decode().splitlines())
    assert _demo_data.test_tone_wav() == _demo_data.test_tone_wav()


def test_cli_ignores_googles_python_end_of_life_warning_only() -> None:
    import warnings

    from voiceops.cli import silence_known_warnings

    google = (
        "You are using a Python version (3.11.7) which Google will stop supporting in new "
        "releases of google.api_core once it reaches its end of life (2027-10-24)."
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        silence_known_warnings()
        warnings.warn(google, FutureWarning, stacklevel=1)
        warnings.warn("something else will change", FutureWarning, stacklevel=1)
        warnings.warn(google, UserWarning, stacklevel=1)
    assert [(w.category, str(w.message)) for w in caught] == [
        (FutureWarning, "something else will change"),
        (UserWarning, google),
    ]


def test_cli_dagster_instance_has_telemetry_off_unless_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No telemetry banner ("Welcome to Dagster!") in the demo; dagster.yaml's choice wins."""
    from orchestration.runs import dagster_instance

    home = tmp_path / "dagster"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert dagster_instance().telemetry_enabled is False
    assert (home / "dagster.yaml").read_text() == ""  # the file `make ui` reads is untouched
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: true\n")
    assert dagster_instance().telemetry_enabled is True
