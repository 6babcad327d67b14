"""The demo's last stage: start the turn API on the champions, send simulated turns in both
languages (text and a recorded call), print one answer in full, and check what it claims."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

from core.language import utterance
from core.net import free_port
from core.settings import Settings
from ingestion.simulator import layout
from voiceops.cli._output import esc, say, stdout_console

#: (intent, language) of the demo's text turns: one fact-backed answer per language, a
#: request the bot performs, and a hand-off.
TEXT_TURNS = (
    ("check_balance", "ru"),
    ("exchange_rate", "en"),
    ("block_card", "ru"),
    ("talk_to_operator", "en"),
)


def _recorded_turn(settings: Settings) -> tuple[Path, dict[str, Any]] | None:
    """A recording of the first simulated day with its call record (the truth)."""
    calls = layout.calls_jsonl(settings.sources_root, 1)
    if not calls.is_file():
        return None
    for line in calls.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        wav = layout.recordings_dir(settings.sources_root, 1) / str(record.get("recording") or "")
        if record.get("recording") and wav.is_file() and record.get("language") == "ru":
            return wav, record
    return None


def serving_demo(settings: Settings, customer: str) -> list[tuple[str, bool]]:
    """Serve, send the turns, print one answer; the claims about them, checked."""
    from serving.client import TurnClient

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = settings.home / "serving" / "demo-serve.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "voiceops.cli", "serve", "--port", str(port)]
    with log_path.open("w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=os.environ)
    claims: list[tuple[str, bool]] = []
    try:
        with TurnClient(url) as client:
            ready = client.wait_ready(timeout_s=600)
            say(f"API ready on {url}: champions {ready['champions']}")
            answers = _send_turns(client, settings, customer)
            first = answers[0]
            path = settings.home / "serving" / "demo-response.wav"
            client.download_audio(first["answer"], path)
            _print_answer(first["answer"], path)
            claims += _claims(answers, ready["champions"])
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    return claims


def _send_turns(client: Any, settings: Settings, customer: str) -> list[dict[str, Any]]:
    rng = random.Random(7)
    sent = []
    for i, (intent, language) in enumerate(TEXT_TURNS):
        said = utterance(intent, language, rng, date.today())
        answer = client.turn(customer, f"demo-{i}", text=said.text, language=language)
        sent.append({"truth": intent, "said": said.text, "answer": answer})
        say(
            f"turn {i + 1} ({language}): {esc(said.text)!r} -> {answer['intent']}: "
            f"{esc(answer['response_text'])!r}"
        )
    recorded = _recorded_turn(settings)
    if recorded is not None:
        wav, record = recorded
        answer = client.turn(customer, "demo-audio", audio=wav, language=record["language"])
        sent.append({"truth": record["intent"], "said": record["transcript"], "answer": answer})
        say(
            f"turn {len(sent)} (audio {wav.name}): heard {esc(answer['transcript'])!r} -> "
            f"{answer['intent']}: {esc(answer['response_text'])!r}"
        )
    return sent


def _print_answer(answer: dict[str, Any], audio: Path) -> None:
    shown = {
        key: answer[key]
        for key in (
            "transcript",
            "language",
            "intent",
            "confidence",
            "slots",
            "action",
            "response_text",
            "versions",
            "experiment",
            "arm",
            "latency_ms",
        )
    }
    shown["response_audio"] = str(audio)
    stdout_console().print_json(json.dumps(shown, ensure_ascii=False))


def _claims(sent: list[dict[str, Any]], champions: dict[str, str]) -> list[tuple[str, bool]]:
    understood = sum(s["answer"]["intent"] == s["truth"] for s in sent)
    served = all(s["answer"]["versions"] == champions for s in sent)
    languages = {s["answer"]["language"] for s in sent}
    balance = next(s["answer"] for s in sent if s["truth"] == "check_balance")
    handoff = next(s["answer"] for s in sent if s["truth"] == "talk_to_operator")
    return [
        (
            f"API answered {len(sent)} turns in {', '.join(sorted(languages))} "
            "with the champions' versions",
            served and languages == {"ru", "en"},
        ),
        (
            f"NLU understood {understood}/{len(sent)} turns (the simulator's intent)",
            understood >= len(sent) - 1,
        ),
        (
            "the balance answer says the bank's figure (no placeholder left)",
            balance["action"] == "respond"
            and "<" not in balance["response_text"]
            and any(ch.isdigit() for ch in balance["response_text"]),
        ),
        ("asking for an operator hands the call off", handoff["handoff"] is True),
    ]
