# ruff: noqa: RUF001 (Russian text uses Cyrillic letters on purpose)
"""``voiceops turn`` and ``voiceops simulate traffic`` against a running API."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from voiceops.cli import app


@pytest.fixture
def server(make_state):
    from serving.api import ThreadedServer, create_app

    state = make_state()
    with ThreadedServer(create_app(state.settings, state.options, state=state)) as running:
        yield running, state


def test_turn_prints_the_answer_and_saves_the_audio(server, customer, tmp_path) -> None:
    running, _ = server
    out = tmp_path / "answer.wav"
    result = CliRunner().invoke(
        app,
        [
            "turn",
            "--text",
            "Какой у меня баланс?",
            "--user",
            customer,
            "--url",
            running.url,
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["language"] == "ru" and answer["response_text"]
    assert answer["versions"]["nlu"] == "1" and answer["response_audio_path"] == str(out)
    assert out.read_bytes()[:4] == b"RIFF"


def test_turn_with_a_wav_and_a_refusal(server, customer, tmp_path) -> None:
    from tests.factories import wav_bytes

    running, _ = server
    wav = tmp_path / "caller.wav"
    wav.write_bytes(wav_bytes(rate=16000, frames=8000))
    heard = CliRunner().invoke(app, ["turn", str(wav), "--user", customer, "--url", running.url])
    assert heard.exit_code == 0, heard.output
    assert json.loads(heard.stdout)["versions"]["stt"] == "1"
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not a wav at all")
    refused = CliRunner().invoke(app, ["turn", str(broken), "--user", "u", "--url", running.url])
    assert refused.exit_code != 0
    assert "HTTP 400" in refused.output and "not a WAV" in refused.output
    neither = CliRunner().invoke(app, ["turn", "--user", "u", "--url", running.url])
    assert neither.exit_code != 0 and "either a WAV file or --text" in neither.output


def test_simulated_traffic_reports_per_arm(server, sources) -> None:
    running, state = server
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "traffic",
            "--users",
            "6",
            "--turns",
            "2",
            "--url",
            running.url,
            "--out",
            str(sources),
            "--concurrency",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["turns"] == 12 and summary["calls"] == 6 and summary["errors"] == {}
    assert summary["arms"]["champion"]["calls"] == 6
    state.events.flush(10)
    frame = state.events.store.read_frame()
    assert (frame["kind"] == "outcome").sum() == 6 and (frame["kind"] == "turn").sum() == 12
