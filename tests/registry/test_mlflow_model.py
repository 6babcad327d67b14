"""Registered versions are MLflow pyfunc models: loaded by alias with their signature, served
by ``mlflow models serve``, and still read, digested and smoke-tested as the registry's."""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import wave
from pathlib import Path

import mlflow.pyfunc
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from mlflow.models import get_model_info

from registry.aliases import trusted_verdict
from registry.errors import RegistryError
from registry.loading import clear_cache, load_model
from registry.mlflow_model import MODEL_CODE, save_pyfunc_model, saved_model_dir, stored_model
from registry.register import Registration, register
from registry.signatures import wav_base64
from registry.tracking import client, history_url
from registry.verdicts import VerdictStore, artifact_digest
from tests.registry.conftest import Trained, World, permissive_policy

NLU_TEXTS = ["Заблокируйте карту 4321, пожалуйста.", "Where is your office in Kazan?"]
NLG_REQUESTS = [
    {"language": "en", "intent": "block_card", "slots": {"card_last4": "4321"}},
    {"language": "ru", "intent": "greeting"},
]


def _register(world: World, trained: Trained) -> Registration:
    done = register(
        trained.family,
        trained.info(world.published),
        settings=world.settings,
        lake=world.lake,
        rows=trained.rows,
        policy=permissive_policy(),
    )
    assert done.verdict.passed, done.verdict.reasons
    return done


@pytest.fixture
def tracked(sqlite_world: World, monkeypatch) -> World:
    """The SQLite world, with MLflow's own clients pointed at its store."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", sqlite_world.settings.tracking_uri)
    return sqlite_world


def test_nlu_champion_is_a_pyfunc_model_answering_like_its_savedmodel(tracked, nlu_good):
    from training.nlu.export import predict

    done = _register(tracked, nlu_good)
    uri = "models:/voicebot-nlu@champion"
    info = get_model_info(uri)
    assert "python_function" in info.flavors
    assert info.signature.inputs.input_names() == ["text"]
    assert {"intent", "confidence", "slots"} <= set(info.signature.outputs.input_names())
    model = mlflow.pyfunc.load_model(uri)
    answers = model.predict(pd.DataFrame({"text": NLU_TEXTS}))
    expected = predict(nlu_good.serving, NLU_TEXTS)
    assert [a["intent"] for a in answers] == [e["intent"] for e in expected]
    assert [a["slots"] for a in answers] == [e["slots"] for e in expected]
    for answer, want in zip(answers, expected, strict=True):
        assert answer["confidence"] == pytest.approx(want["confidence"], abs=1e-5)
    with pytest.raises(MlflowException, match="text"):
        model.predict(pd.DataFrame({"words": NLU_TEXTS}))  # the signature is enforced
    # the gate smoke-tested that same MLflow model through mlflow.pyfunc, on its input example
    version = client(tracked.settings).get_model_version("voicebot-nlu", done.version)
    smoke = json.loads(version.tags["gate.smoke"])
    assert smoke["ok"] and smoke["pyfunc"]["rows"] == 2
    assert all({"intent", "slots"} <= set(fields) for fields in smoke["pyfunc"]["answers"])


def test_nlg_version_loads_and_fills_slots_like_its_savedmodel(tracked, nlg_trained):
    from training.nlg.export import predict

    done = _register(tracked, nlg_trained)
    model = mlflow.pyfunc.load_model(f"models:/voicebot-nlg/{done.version}")
    answers = model.predict(pd.DataFrame(NLG_REQUESTS))
    assert [a["text"] for a in answers] == predict(nlg_trained.serving, NLG_REQUESTS)
    assert model.metadata.get_input_schema().input_names() == [
        "language",
        "intent",
        "slots",
        "facts",
    ]


def test_the_digest_covers_the_whole_mlflow_model(tracked, nlu_good):
    """``load_model`` still gets the SavedModel; changing any file of the MLflow model, even
    only the code that loads it, is caught before the version is served."""
    done = _register(tracked, nlu_good)
    settings = tracked.settings
    version = client(settings).get_model_version("voicebot-nlu", done.version)
    root = stored_model(version, settings)
    recorded = VerdictStore(history_url(settings)).latest("voicebot-nlu", done.version)
    assert recorded.artifact_sha256 == artifact_digest(root)
    assert artifact_digest(root) != artifact_digest(saved_model_dir(root))
    clear_cache()
    assert load_model("nlu", settings=settings).serve is not None
    trusted_verdict(settings, version)
    code = root / MODEL_CODE.name
    code.write_text(code.read_text() + "\nprint('changed')\n")
    with pytest.raises(RegistryError, match="changed after registration"):
        trusted_verdict(settings, version)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_mlflow_models_serve_answers_the_champion(tracked, nlu_good):
    """``mlflow models serve -m models:/voicebot-nlu@champion --env-manager local``."""
    from training.nlu.export import predict

    _register(tracked, nlu_good)
    port = _free_port()
    command = [
        str(Path(sys.executable).with_name("mlflow")),
        "models",
        "serve",
        "-m",
        "models:/voicebot-nlu@champion",
        "--env-manager",
        "local",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-w",
        "1",
    ]
    # mlflow starts ``uvicorn`` from PATH: the one beside this interpreter
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2", "PATH": path}
    server = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert server.poll() is None, server.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "mlflow models serve did not start in 240 s"
            try:
                with urllib.request.urlopen(f"{base}/ping", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(1)
        records = [{"text": text} for text in NLU_TEXTS]
        answer = _post(f"{base}/invocations", {"dataframe_records": records})
        expected = predict(nlu_good.serving, NLU_TEXTS)
        assert [p["intent"] for p in answer["predictions"]] == [e["intent"] for e in expected]
        with pytest.raises(urllib.error.HTTPError) as refused:
            _post(f"{base}/invocations", {"dataframe_records": [{"words": "hello"}]})
        assert refused.value.code == 400
    finally:
        _stop(server)


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (uvicorn and its worker), SIGKILL after 30 s."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    except ProcessLookupError:
        pass  # already gone
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


@pytest.fixture(scope="module")
def stt_saved_model(tmp_path_factory) -> Path:
    """A tiny STT model trained for real and exported (about 20 s)."""
    from training.stt.config import STTConfig
    from training.stt.synthetic import synthetic_rows
    from training.stt.train import train

    root = tmp_path_factory.mktemp("stt_flavor")
    rows = synthetic_rows(6, seed=1, real=2, cache=root / "audio")
    return train(rows, STTConfig.tiny(), root / "run").model_path


@pytest.fixture(scope="module")
def tts_saved_model(tmp_path_factory) -> Path:
    """A tiny TTS model trained for real (two epochs) and exported."""
    from training.tts.config import TTSConfig
    from training.tts.export import export
    from training.tts.synthetic import synthetic_rows
    from training.tts.train import train

    root = tmp_path_factory.mktemp("tts_flavor")
    result = train(synthetic_rows(8, root / "audio", seed=3), TTSConfig.tiny(epochs=2), root)
    return export(result.serving, root / "saved_model")


def _pyfunc(family: str, saved_model: Path, path: Path) -> mlflow.pyfunc.PyFuncModel:
    from mlflow.models import Model

    return mlflow.pyfunc.load_model(str(save_pyfunc_model(family, saved_model, path, Model())))


def test_stt_flavor_hears_base64_wav_and_float_lists(stt_saved_model, tmp_path):
    from registry.serving import read_wav, reference_waveforms
    from training.stt.export import load, transcribe

    model = _pyfunc("stt", stt_saved_model, tmp_path / "model")
    assert model.metadata.get_input_schema().input_names() == [
        "audio_base64",
        "waveform",
        "sample_rate",
        "language",
    ]
    short, long = reference_waveforms()
    wav = wav_base64(long, 16000)  # any rate: resampled inside the model
    answers = model.predict(
        pd.DataFrame(
            [
                {"audio_base64": wav},
                {"waveform": [float(x) for x in short], "sample_rate": 8000},
                {"waveform": [float(x) for x in short], "sample_rate": 8000, "language": "ru"},
            ]
        )
    )
    saved = load(stt_saved_model)
    heard_wav = transcribe(saved, [read_wav(io.BytesIO(base64.b64decode(wav)))[0]], 16000)
    in_russian = transcribe(saved, [short], 8000, languages=["ru"])[0]
    assert answers == [
        {"text": heard_wav[0]},
        {"text": transcribe(saved, [short], 8000)[0]},
        {"text": in_russian},
    ]
    assert not set(in_russian) & set("abcdefghijklmnopqrstuvwxyz")
    with pytest.raises(RegistryError, match="audio_base64"):
        model.predict(pd.DataFrame([{"sample_rate": 8000}]))


def test_tts_flavor_speaks_wav_or_waveform(tts_saved_model, tmp_path):
    from training.tts.export import load, synthesize

    model = _pyfunc("tts", tts_saved_model, tmp_path / "model")
    rows = pd.DataFrame(
        [{"text": "Ваша карта заблокирована."}, {"text": "Hello", "language": "en"}]
    )
    spoken = model.predict(rows)
    waves, rate = synthesize(load(tts_saved_model), list(rows["text"]), ["ru", "en"])
    for answer, wave_ in zip(spoken, waves, strict=True):
        with wave.open(io.BytesIO(base64.b64decode(answer["wav_base64"]))) as wav:
            assert wav.getframerate() == answer["sample_rate"] == rate
            assert wav.getnframes() == len(wave_) == round(answer["seconds"] * rate)
    as_floats = model.predict(rows, params={"format": "waveform"})
    assert [len(a["waveform"]) for a in as_floats] == [len(w) for w in waves]
    assert as_floats[1]["waveform"] == pytest.approx(waves[1].tolist(), abs=1e-6)
