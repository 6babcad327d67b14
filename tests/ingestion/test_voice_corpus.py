"""The voice corpus: a studio delivery (festvox-ru train sentences + a natural English voice),
its validation and quarantine, and the Dagster asset that lands it on an ingest branch
through the ``voice_corpus`` Airbyte connection."""

from __future__ import annotations

import io
import json
import shutil
import wave
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from dagster import materialize

from core.audio import FESTVOX_RU_DIR, real_speech_utterances
from core.splits import real_speech_split
from ingestion import validation
from ingestion.airbyte.connections import load_connection
from ingestion.voice_corpus.delivery import (
    AUDIO_DIR,
    DELIVERY,
    ENGLISH_VOICE,
    MANIFEST,
    HeldOutSentenceError,
    voice_corpus_root,
    write_delivery,
)
from ingestion.voice_corpus.script import SCRIPT_EN, read_script
from tests.factories import wav_bytes
from tests.ingestion.test_airbyte_embedded import (  # noqa: F401 (fixtures)
    airbyte_home,
    connector_install_dir,
)

needs_corpus = pytest.mark.skipif(
    not FESTVOX_RU_DIR.is_dir() or shutil.which("festival") is None,
    reason="festvox-ru or festival missing",
)
DAY = date(2026, 1, 1)


def _held_out_festvox() -> tuple[str, str, Path]:
    """(utterance id, sentence, 16 kHz WAV) of a festvox-ru sentence outside the train split."""
    for text, wav, speaker in real_speech_utterances("ru"):
        if real_speech_split(text) != "train":
            return speaker.id.split(":", 1)[1], text, wav
    raise AssertionError("festvox-ru has no held-out sentence")


def _manifest(directory: Path) -> list[dict]:
    lines = (directory / MANIFEST).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small delivery: 3 festvox-ru train utterances, 2 script sentences."""
    if not FESTVOX_RU_DIR.is_dir() or shutil.which("festival") is None:
        pytest.skip("festvox-ru or festival missing")
    directory = tmp_path_factory.mktemp("sources") / "voice_corpus" / DELIVERY
    report = write_delivery(directory, russian=3, english=2)
    assert report.utterances == {"ru": 3, "en": 2} and report.failed == 0
    return directory


@needs_corpus
def test_delivery_holds_train_sentences_and_the_script_at_8khz(delivery: Path) -> None:
    rows = _manifest(delivery)
    assert [r["language"] for r in rows] == ["ru"] * 3 + ["en"] * 2
    for row in rows:
        assert row["audio_file"] == f"{row['utterance_id']}.wav"
        data = (delivery / AUDIO_DIR / row["audio_file"]).read_bytes()
        assert validation.recording_problem(data) is None  # 8 kHz 16-bit mono
        with wave.open(io.BytesIO(data)) as wav:
            assert abs(wav.getnframes() / 8000 - row["duration_s"]) < 1e-3
    russian = [r for r in rows if r["language"] == "ru"]
    assert all(r["speaker"] == f"festvox-ru:{r['utterance_id'][3:]}" for r in russian)
    assert all(real_speech_split(r["text"]) == "train" for r in russian)
    english = [r for r in rows if r["language"] == "en"]
    assert [r["text"] for r in english] == read_script(SCRIPT_EN)[:2]
    assert {r["speaker"] for r in english} == {ENGLISH_VOICE}
    assert validation.check_voice_corpus(rows, delivery / AUDIO_DIR).rejects == []


@needs_corpus
def test_delivery_is_deterministic(delivery: Path, tmp_path: Path) -> None:
    write_delivery(tmp_path / "again", russian=1, english=1)
    again = _manifest(tmp_path / "again")
    first = _manifest(delivery)
    assert again == [first[0], first[3]]
    for row in again:
        name = row["audio_file"]
        assert (tmp_path / "again" / AUDIO_DIR / name).read_bytes() == (
            delivery / AUDIO_DIR / name
        ).read_bytes()


@needs_corpus
def test_a_held_out_festvox_sentence_is_refused_by_the_producer(tmp_path: Path) -> None:
    utterance, _, _ = _held_out_festvox()
    with pytest.raises(HeldOutSentenceError, match=utterance):
        write_delivery(tmp_path / "d", festvox_ids=[utterance], english=0)
    assert not (tmp_path / "d" / MANIFEST).exists()


def _plant_bad_rows(directory: Path) -> list[tuple[dict, str]]:
    """Append bad rows (and their WAVs) to a delivery; (row, expected reason part) each."""
    audio = directory / AUDIO_DIR
    good = _manifest(directory)
    held_id, held_text, _ = _held_out_festvox()
    # the held-out sentence with a valid 8 kHz WAV: only its split can refuse it
    shutil.copy(audio / good[0]["audio_file"], audio / f"ru-{held_id}.wav")
    (audio / "en-0901.wav").write_bytes(b"<html>504</html>")
    (audio / "en-0902.wav").write_bytes(wav_bytes(rate=16000))
    base = dict(good[-1])

    def row(utterance_id: str, **fields) -> dict:
        return base | {"utterance_id": utterance_id, "audio_file": f"{utterance_id}.wav"} | fields

    bad = [
        (row("en-0900", text=""), "text: missing or empty"),
        (row("en-0903", language="de"), "language: 'de' is not one of"),
        (row("en-0904"), "audio_file: en-0904.wav is not in the delivery"),
        (row("en-0901"), "audio_file: en-0901.wav: not a readable WAV"),
        (row("en-0902"), "audio_file: en-0902.wav: sample rate 16000 Hz, expected 8000 Hz"),
        (row("en-0905", speaker="festival:no_such_voice:t1.00:p+0:g+0"), "speaker: unknown"),
        (
            row(f"ru-{held_id}", text=held_text, language="ru", speaker=f"festvox-ru:{held_id}"),
            "text: a festvox-ru",
        ),
        (row("en-0906", audio_file="elsewhere.wav"), "audio_file: 'elsewhere.wav' is not"),
        (dict(good[0]), "utterance_id: duplicate"),
    ]
    with (directory / MANIFEST).open("a", encoding="utf-8") as manifest:
        for record, _ in bad:
            manifest.write(json.dumps(record, ensure_ascii=False) + "\n")
        manifest.write("{not json\n")
    return bad


@needs_corpus
def test_bad_manifest_rows_are_quarantined_with_field_reason_and_file(
    delivery: Path, tmp_path: Path
) -> None:
    directory = tmp_path / "bad"
    shutil.copytree(delivery, directory)
    bad = _plant_bad_rows(directory)
    rows = [json.loads(line) for line in (directory / MANIFEST).read_text().splitlines()[:-1]]
    checked = validation.check_voice_corpus(
        rows, directory / AUDIO_DIR, manifest="studio-v1/manifest.jsonl"
    )
    assert len(checked.valid) == 5 and len(checked.rejects) == len(bad)
    for reject, (record, expected) in zip(checked.rejects, bad, strict=True):
        assert reject["record"] == record
        assert expected in reject["reason"], (expected, reject["reason"])
        assert reject["reason"].endswith("(file studio-v1/manifest.jsonl)")


def test_the_connection_reads_a_delivery_manifest_with_source_file() -> None:
    corpus = load_connection("voice_corpus", {"MANIFEST_FILE": "/d/manifest.jsonl"})
    assert (corpus.source_name, corpus.version) == ("source-file", "0.5.39")
    assert corpus.config["url"] == "/d/manifest.jsonl" and corpus.config["format"] == "jsonl"
    assert corpus.streams["utterances"].primary_key == ("utterance_id",)


@needs_corpus
def test_the_asset_lands_rows_wavs_and_rejects_on_the_ingest_branch(
    delivery: Path,
    airbyte_home: Path,  # noqa: F811 (the fixture)
) -> None:
    from orchestration.defs.ingestion.assets import (
        VOICE_CORPUS_AUDIO_KEY,
        VOICE_CORPUS_KEY,
        contact_center_ingestion,
        voice_corpus,
    )
    from orchestration.resources.lake import LakeResource

    sources = airbyte_home / "sources"
    directory = voice_corpus_root(sources) / DELIVERY
    shutil.copytree(delivery, directory)
    bad = _plant_bad_rows(directory)
    lake_resource = LakeResource(home=str(airbyte_home), backend="local")
    result = materialize(
        [voice_corpus, contact_center_ingestion],
        partition_key=DAY.isoformat(),
        resources={"lake": lake_resource},
    )
    assert result.success
    landed = {
        m.asset_key: m.metadata for m in result.asset_materializations_for_node("voice_corpus")
    }
    rows = landed[VOICE_CORPUS_KEY]
    assert rows["records"].value == 5 and rows["quarantined"].value == len(bad) + 1
    assert landed[VOICE_CORPUS_AUDIO_KEY]["records"].value == 5
    branch = rows["branch"].value
    assert branch.startswith("ingest-20260101-")

    lake, repo = lake_resource.get_lake(), lake_resource.repository_name
    partition = f"dt={DAY.isoformat()}"
    part = lake.read_bytes(
        repo, branch, f"raw/voice_corpus/utterances/{partition}/part-00000.parquet"
    )
    table = pq.read_table(io.BytesIO(part)).to_pylist()
    assert sorted(r["utterance_id"] for r in table) == sorted(
        r["utterance_id"] for r in _manifest(delivery)
    )
    wavs = [o.path for o in lake.list_objects(repo, branch, "raw/voice_corpus/audio/")]
    assert sorted(wavs) == sorted(
        f"raw/voice_corpus/audio/{partition}/{r['utterance_id']}.wav" for r in table
    )
    rejects = lake.read_bytes(
        repo, branch, f"quarantine/voice_corpus/utterances/{partition}/rejects.jsonl"
    )
    reasons = [json.loads(line)["reason"] for line in rejects.splitlines()]
    assert len(reasons) == len(bad) + 1 and any("unparseable JSON" in r for r in reasons)
    assert all(r.endswith(f"(file {DELIVERY}/manifest.jsonl)") for r in reasons)
    commit = lake.get_commit(repo, lake.get_branch(repo, branch).commit_id)
    assert commit.metadata["records.voice_corpus.utterances"] == "5"
    assert commit.metadata["quarantined.voice_corpus.utterances"] == str(len(bad) + 1)
    assert commit.metadata["records.voice_corpus.audio"] == "5"

    # the next run finds the delivery in the kept state: nothing is synced twice
    again = materialize(
        [voice_corpus], partition_key="2026-01-02", resources={"lake": lake_resource}
    )
    metadata = again.asset_materializations_for_node("voice_corpus")[0].metadata
    assert metadata["records"].value == 0 and metadata["quarantined"].value == 0
