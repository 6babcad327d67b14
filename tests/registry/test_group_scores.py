"""``voiceops models breakdown stt VERSION``: a registered STT version's CER per voice engine,
line, language or speaker on one split's rows, read at the version's lake commit (a tiny
model trained for real on espeak rows and registered on SQLite; the rows' speaker ids and
line labels are set per row, so the groups are known)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from core.telephony import CLEAN
from core.voices import natural_speakers, speaker_engine, speakers
from registry.external_eval import stt_scores
from registry.register import model_dir, register
from registry.tracking import client
from registry.training_info import TrainingInfo
from registry.versions import get_version
from tests.registry.conftest import MANIFEST, World, build_world
from tests.registry.speech import spoken_rows

GSM = "gsm:band=300-3400:loss=0.010:snr=15:noise=line:reverb=0.00:clip=0.00"
SPLIT = "test_channel"


def _voices(i: int, language: str) -> tuple[str, str]:
    """(speaker id, line label) of the ``i``-th row of a language: engines and lines mixed."""
    natural = natural_speakers("flite" if language == "en" else "festival", language)
    speaker = (speakers(language)[i] if i % 2 == 0 else natural[i]).id
    return speaker, GSM if i % 3 == 0 else CLEAN


@pytest.fixture(scope="module")
def registered(tmp_path_factory) -> tuple[World, str, list[dict[str, Any]]]:
    """A registered tiny STT version, and the rows of its ``test_channel`` split."""
    from training.stt.config import STTConfig
    from training.stt.train import train

    work = tmp_path_factory.mktemp("speech")
    rows = [
        *spoken_rows(work, "train"),
        *spoken_rows(work, "validation", offset=1),
        *spoken_rows(work, SPLIT, offset=2),
    ]
    for language in ("en", "ru"):
        chosen = [r for r in rows if r["split"] == SPLIT and r["language"] == language]
        for i, row in enumerate(chosen):
            row["speaker"], row["line"] = _voices(i, language)
    world = build_world(tmp_path_factory.mktemp("home") / "home")
    result = train(rows, STTConfig.tiny(epochs=1), tmp_path_factory.mktemp("run"))
    info = TrainingInfo(
        model_path=result.model_path,
        lake_commit=world.published,
        config=result.config.to_dict(),
        config_hash=result.config.config_hash(),
        code_version="code-v1",
        scores=result.metrics,
        marts_manifest_hash=MANIFEST,
    )
    version = register("stt", info, settings=world.settings, rows=rows).version
    return world, version, [r for r in rows if r["split"] == SPLIT]


class Loader:
    """Rows of a split at a commit, remembering which commit was asked for."""

    def __init__(self, rows: list[dict[str, Any]]):
        self.rows, self.asked = rows, []

    def __call__(self, commit: str, split: str) -> list[dict[str, Any]]:
        self.asked.append((commit, split))
        return [dict(row) for row in self.rows if row["split"] == split]


def test_cer_per_engine_and_line_is_each_groups_own_cer(registered) -> None:
    from registry.group_scores import group_scores

    world, version, rows = registered
    loader = Loader(rows)
    report = group_scores(world.settings, version, split=SPLIT, by="engine", rows_loader=loader)
    # the rows of the split at the lake commit the version was trained on (its lineage)
    assert loader.asked == [(world.published, SPLIT)]
    assert (report["lake_commit"], report["commit_of"]) == (world.published, "lineage")
    assert set(report["groups"]) == {"espeak", "flite", "festival"}
    artifact = model_dir(
        get_version(client(world.settings), "voicebot-stt", version), world.settings
    )
    for engine, languages in report["groups"].items():
        subset = [row for row in rows if speaker_engine(row["speaker"]) == engine]
        assert languages["all"]["n"] == len(subset)
        assert languages["all"]["cer"] == pytest.approx(stt_scores(artifact, subset)["all"]["cer"])
    assert set(report["groups"]["flite"]) == {"all", "en"}  # flite speaks English only
    whole = stt_scores(artifact, rows)
    assert set(report["languages"]) == set(whole) == {"all", "en", "ru"}
    for language, metrics in whole.items():
        assert report["languages"][language] == pytest.approx(metrics)
    assert report["scored"] == report["rows"] == len(rows)

    by_line = group_scores(world.settings, version, split=SPLIT, by="line", rows_loader=loader)
    assert {g: s["all"]["n"] for g, s in by_line["groups"].items()} == {
        "clean": sum(row["line"] == CLEAN for row in rows),
        "gsm": sum(row["line"] == GSM for row in rows),
    }
    assert by_line["languages"] == report["languages"]


def test_errors_list_the_worst_utterances_and_each_language_s_confusions(registered) -> None:
    from rapidfuzz.distance import Levenshtein

    from registry.external_eval import prepared_transcripts
    from registry.group_scores import group_scores

    world, version, rows = registered
    report = group_scores(
        world.settings, version, split=SPLIT, by="engine", errors=3, rows_loader=Loader(rows)
    )
    artifact = model_dir(
        get_version(client(world.settings), "voicebot-stt", version), world.settings
    )
    data, hypotheses = prepared_transcripts(artifact, rows)
    edits = sorted(
        (Levenshtein.distance(r, h) for r, h in zip(data.references, hypotheses, strict=True)),
        reverse=True,
    )
    worst = report["worst"]
    assert [miss["errors"] for miss in worst] == edits[:3]
    by_id = {str(row["call_id"]): row for row in rows}
    for miss in worst:
        row = by_id[miss["call_id"]]
        assert (miss["speaker"], miss["line"], miss["language"]) == (
            row["speaker"],
            row["line"],
            row["language"],
        )
        assert miss["group"] == speaker_engine(row["speaker"])
        assert miss["errors"] == Levenshtein.distance(miss["reference"], miss["hypothesis"])
    assert set(report["confusions"]) == {"en", "ru"}
    for pairs in report["confusions"].values():
        counts = [pair["count"] for pair in pairs]
        assert 0 < len(pairs) <= 3 and counts == sorted(counts, reverse=True)
    assert "worst" not in group_scores(
        world.settings, version, split=SPLIT, by="engine", rows_loader=Loader(rows)
    )


def test_published_reads_the_published_commit(registered, monkeypatch) -> None:
    import training.common.data
    from registry.group_scores import group_scores

    world, version, rows = registered
    monkeypatch.setattr(training.common.data, "published_commit", lambda settings: "c0ffee")
    loader = Loader(rows)
    report = group_scores(
        world.settings, version, split=SPLIT, by="language", published=True, rows_loader=loader
    )
    assert loader.asked == [("c0ffee", SPLIT)]
    assert report["commit_of"] == "published" and set(report["groups"]) == {"en", "ru"}
    for language in ("en", "ru"):
        assert report["groups"][language]["all"] == pytest.approx(report["languages"][language])


def test_cli_prints_the_groups_and_json(registered, monkeypatch) -> None:
    import registry.group_scores
    from voiceops.cli import app

    world, version, rows = registered
    monkeypatch.setenv("VOICEOPS_HOME", str(world.settings.home))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(registry.group_scores, "warehouse_split_rows", lambda s: Loader(rows))
    runner = CliRunner()
    args = ["models", "breakdown", "stt", version, "--split", SPLIT, "--by", "engine"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["by"] == "engine" and set(report["groups"]) == {"espeak", "flite", "festival"}

    text = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert text.exit_code == 0, text.output
    assert f"voicebot-stt v{version} on {SPLIT}" in text.stdout
    for engine, languages in report["groups"].items():
        line = next(x for x in text.stdout.splitlines() if f" {engine} " in f" {x} ")
        assert f"{languages['all']['cer']:.4f}" in line

    listed = runner.invoke(app, [*args, "--errors", "2"], env={"COLUMNS": "300"})
    assert listed.exit_code == 0, listed.output
    detailed = json.loads(runner.invoke(app, [*args, "--errors", "2", "--json"]).stdout)
    for miss in detailed["worst"]:
        assert miss["hypothesis"] in listed.stdout and miss["speaker"] in listed.stdout
    for language, pairs in detailed["confusions"].items():
        for pair in pairs:
            said, written = pair["reference"] or "-", pair["hypothesis"] or "-"
            assert any(
                said in line and written in line and f" {language} " in line
                for line in listed.stdout.splitlines()
            )

    unknown = runner.invoke(app, [*args[:-1], "voice"])
    assert unknown.exit_code == 1 and "unknown grouping 'voice'" in unknown.stderr
    nlu = runner.invoke(app, ["models", "breakdown", "nlu", version])
    assert nlu.exit_code == 2
