"""The turn API over real tiny models: turns by JSON and by WAV, readiness, every bad input
refused with a one-line 4xx that disturbs nothing, overload answered with 429/503."""

from __future__ import annotations

import io
import json
import struct
import threading
import wave

import numpy as np
import pytest

from serving.batching import Batcher, BatchingOptions
from serving.options import ServingOptions
from tests.factories import wav_bytes
from tests.serving.conftest import VERSION

FAMILIES = ("stt", "nlu", "nlg", "tts")


def _pcm_wav(rate: int, channels: int, width: int, seconds: float = 0.5) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    tone = 0.3 * np.sin(2 * np.pi * 220 * t)
    peak = 2 ** (8 * width - 1) - 1
    samples = np.repeat((tone * peak).astype(np.int64), channels)
    if width == 3:
        frames = b"".join(int(s).to_bytes(3, "little", signed=True) for s in samples)
    elif width == 1:
        frames = (samples + 128).astype(np.uint8).tobytes()
    else:
        frames = samples.astype({2: np.int16, 4: np.int32}[width]).tobytes()
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return out.getvalue()


def _float_wav() -> bytes:
    """A 32-bit IEEE-float WAV (format 3), which the API does not take."""
    data = struct.pack("<4f", 0.0, 0.1, 0.2, 0.3)
    fmt = struct.pack("<HHIIHH", 3, 1, 8000, 32000, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data"
    body += struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _assert_answer(answer: dict) -> None:
    assert answer["versions"] == dict.fromkeys(FAMILIES, VERSION)
    assert answer["intent"] and 0.0 <= answer["confidence"] <= 1.0
    assert set(answer["slots"]) == {"spoken", "canonical", "unresolved"}
    assert answer["response_text"].strip()
    assert answer["action"] in ("respond", "reprompt", "clarify", "handoff")
    assert answer["response_audio_url"].startswith("/v1/audio/")
    assert answer["experiment"] is None and answer["arm"] is None
    assert answer["latency_ms"]["total"] > 0


def test_text_turn_as_json_and_its_response_audio(api, customer) -> None:
    client = api()
    response = client.post(
        "/v1/turn", json={"text": "What's my balance?", "user_id": customer, "session_id": "s1"}
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    _assert_answer(answer)
    assert answer["transcript"] == "What's my balance?" and answer["language"] == "en"
    audio = client.get(answer["response_audio_url"])
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
    assert answer["response_audio_seconds"] > 0


def test_text_turn_as_form_with_inline_audio(api, customer) -> None:
    response = api().post(
        "/v1/turn?inline_audio=true",
        data={"text": "Какой курс доллара?", "user_id": customer, "session_id": "s2"},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    _assert_answer(answer)
    assert answer["language"] == "ru"
    import base64

    assert base64.b64decode(answer["response_audio_wav_base64"])[:4] == b"RIFF"


@pytest.mark.parametrize(
    ("rate", "channels", "width"),
    [(8000, 1, 2), (16000, 1, 2), (44100, 2, 3), (22050, 1, 1), (48000, 2, 4)],
)
def test_audio_of_any_pcm_width_rate_and_channels_is_heard(api, customer, rate, channels, width):
    wav = _pcm_wav(rate, channels, width)
    response = api().post(
        "/v1/turn",
        data={"user_id": customer, "session_id": "a"},
        files={"audio": ("a.wav", wav, "audio/wav")},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["versions"]["stt"] == VERSION
    assert isinstance(answer["transcript"], str)


BAD_INPUTS = {
    "not a WAV": ({"files": {"audio": ("a.wav", b"ID3 this is an mp3", "audio/mpeg")}}, 400),
    "corrupt WAV": ({"files": {"audio": ("a.wav", b"RIFF\x10\x00\x00\x00WAVEfmt ", "x")}}, 400),
    "empty audio": ({"files": {"audio": ("a.wav", b"", "audio/wav")}}, 400),
    "no samples": ({"files": {"audio": ("a.wav", wav_bytes(frames=0), "audio/wav")}}, 400),
    "float WAV": ({"files": {"audio": ("a.wav", _float_wav(), "audio/wav")}}, 400),
    "too long": ({"files": {"audio": ("a.wav", wav_bytes(frames=8000 * 3), "audio/wav")}}, 413),
    "too big": ({"files": {"audio": ("a.wav", wav_bytes(frames=40_000), "audio/wav")}}, 413),
    "empty text": ({"data": {"text": "   "}}, 422),
    "audio and text": ({"data": {"text": "hi"}, "files": {"audio": ("a", wav_bytes(), "x")}}, 422),
    "neither": ({"data": {"session_id": "s"}}, 422),
    "unknown form field": ({"data": {"text": "hi", "colour": "red"}}, 422),
    "bad language": ({"data": {"text": "hi", "language": "de"}}, 422),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_form_input_gets_a_one_line_4xx(api, make_state, customer, case) -> None:
    client = api(make_state(ServingOptions(max_audio_seconds=2.0, max_audio_bytes=60_000)))
    kwargs, status = BAD_INPUTS[case]
    request = dict(kwargs)
    request["data"] = {"user_id": customer, **kwargs.get("data", {})}
    response = client.post("/v1/turn", **request)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error and "\n" not in error and "Traceback" not in error
    ok = client.post("/v1/turn", json={"text": "hello", "user_id": customer})
    assert ok.status_code == 200, ok.text  # nothing else disturbed


JSON_BAD = {
    "missing user id": ({"text": "hi"}, 422, "user_id"),
    "unknown field": ({"text": "hi", "user_id": "u", "mood": "happy"}, 422, "mood: unknown"),
    "empty text": ({"text": "", "user_id": "u"}, 422, "text"),
    "oversized": ({"text": "x" * 70_000, "user_id": "u"}, 413, "JSON body over"),
}


@pytest.mark.parametrize("case", sorted(JSON_BAD))
def test_bad_json_input_gets_a_one_line_4xx(api, case) -> None:
    body, status, says = JSON_BAD[case]
    response = api().post("/v1/turn", json=body)
    assert response.status_code == status, response.text
    assert says in response.json()["error"] and "\n" not in response.json()["error"]


def test_not_json_missing_form_user_and_wrong_type(api) -> None:
    client = api()
    broken = client.post("/v1/turn", content=b"{nope", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and "not JSON" in broken.json()["error"]
    no_user = client.post("/v1/turn", data={"text": "hi"})
    assert no_user.status_code == 422 and "user_id" in no_user.json()["error"]
    plain = client.post("/v1/turn", content=b"hi", headers={"content-type": "text/plain"})
    assert plain.status_code == 415


def test_health_and_readiness(api, make_state) -> None:
    state = make_state()
    client = api(state)
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    assert ready.json()["champions"] == dict.fromkeys(FAMILIES, VERSION)
    state.ready = False
    assert client.get("/readyz").status_code == 503
    refused = client.post("/v1/turn", json={"text": "hi", "user_id": "u"})
    assert refused.status_code == 503 and refused.headers["retry-after"]
    assert "/v1/turn" in client.get("/openapi.json").json()["paths"]


def test_a_worker_at_its_inflight_limit_answers_503(api, make_state, customer) -> None:
    state = make_state(ServingOptions(max_inflight=1))
    client = api(state)
    with state.admit() as admitted:  # one turn in progress
        assert admitted
        response = client.post("/v1/turn", json={"text": "hi", "user_id": customer})
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert client.post("/v1/turn", json={"text": "hi", "user_id": customer}).status_code == 200


def test_a_full_batch_queue_answers_429(api, make_state, customer, tiny_models) -> None:
    from serving.model_pool import _runner

    state = make_state()
    gate = threading.Event()
    real = _runner("nlu", tiny_models.models["nlu"])
    blocked = Batcher(
        "nlu-v1",
        lambda items: (gate.wait(10), real(items))[1],
        BatchingOptions(max_batch_size=1, batch_timeout_s=0, max_queue=1),
    )
    state.pool.models[("nlu", VERSION)].batcher = blocked
    client = api(state)
    first = blocked.submit("held by the gate")  # taken by the worker, which waits on the gate
    while blocked.queued:
        pass
    blocked.submit("fills the queue")
    response = client.post("/v1/turn", json={"text": "hi", "user_id": customer})
    assert response.status_code == 429 and int(response.headers["retry-after"]) >= 1
    gate.set()
    assert first.result(timeout=10)["intent"]
    assert client.post("/v1/turn", json={"text": "hi", "user_id": customer}).status_code == 200


def test_every_turn_is_an_event(api, make_state, customer) -> None:
    state = make_state()
    client = api(state)
    for i in range(3):
        body = {"text": "What's my balance?", "user_id": customer, "session_id": f"e{i}"}
        assert client.post("/v1/turn", json=body).status_code == 200
    client.post("/v1/turn", json={"text": "", "user_id": customer})  # refused: no turn, no event
    state.events.flush(10)
    frame = state.events.store.read_frame()
    turns = frame[frame["kind"] == "turn"]
    assert len(turns) == 3 and set(turns["user_id"]) == {customer}
    assert all(json.loads(v) == dict.fromkeys(FAMILIES, VERSION) for v in turns["versions"])
    assert (turns["latency_ms"] > 0).all() and turns["error"].isna().all()
    assert state.events.stats().lost == 0


def test_a_failing_model_gets_a_one_line_500_and_the_connection_stays_open(
    make_state, customer, tiny_models
) -> None:
    """A model that raises: the caller gets a JSON 500 naming the error, the failed turn is
    an event, and the next turn on the same keep-alive connection is answered."""
    import httpx

    from serving.api import ThreadedServer, create_app
    from serving.model_pool import _runner

    state = make_state()
    failing = {"on": True}
    real = _runner("nlu", tiny_models.models["nlu"])

    def runner(items):
        if failing["on"]:
            raise RuntimeError("planted NLU failure\nsecond line")
        return real(items)

    state.pool.models[("nlu", VERSION)].batcher = Batcher(
        "nlu-v1", runner, BatchingOptions(max_batch_size=1, batch_timeout_s=0, max_queue=4)
    )
    body = {"text": "What's my balance?", "user_id": customer}
    with (
        ThreadedServer(create_app(state.settings, state.options, state=state)) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        refused = client.post("/v1/turn", json=body)
        assert refused.status_code == 500
        assert refused.json() == {"error": "the turn failed: RuntimeError: planted NLU failure"}
        failing["on"] = False
        answered = client.post("/v1/turn", json=body)
        assert answered.status_code == 200, answered.text
        # the same connection answered both: the 500 did not close it
        assert answered.extensions["network_stream"] is refused.extensions["network_stream"]
    state.events.flush(10)
    turns = state.events.store.read_frame().query("kind == 'turn'")
    assert turns["error"].fillna("").str.startswith("RuntimeError: planted").sum() == 1


def test_a_turn_event_records_the_upload_and_the_transcript_length(
    api, make_state, customer
) -> None:
    state = make_state()
    client = api(state)
    wav = _pcm_wav(16000, 2, 2, seconds=0.75)
    heard = client.post(
        "/v1/turn", data={"user_id": customer}, files={"audio": ("a.wav", wav, "audio/wav")}
    ).json()
    typed = client.post("/v1/turn", json={"text": " What's my balance? ", "user_id": customer})
    assert typed.status_code == 200
    state.events.flush(10)
    turns = state.events.store.read_frame().query("kind == 'turn'").set_index("input_kind")
    audio, text = turns.loc["audio"], turns.loc["text"]
    assert audio["audio_duration_s"] == 0.75 and audio["audio_sample_rate"] == 16000
    assert audio["transcript_length"] == len(heard["transcript"])
    assert text["transcript_length"] == len("What's my balance?")  # as the NLU read it
    assert text[["audio_duration_s", "audio_sample_rate"]].isna().all()
