"""The bot's HTTP API (FastAPI): one turn per request, health and readiness, audio download.

    POST /v1/turn            multipart form (audio=<WAV> or text=..., user_id, session_id,
                             language?) or a JSON body {"text", "user_id", "session_id",
                             "language"?}; ?inline_audio=true puts the WAV in the answer
    POST /v1/outcome         {"user_id", "session_id", "resolved"}: how the call ended
    GET  /v1/audio/{id}.wav  a turn's response audio
    GET  /v1/models          versions loaded, champions, versions that failed to load
    GET  /healthz            the process answers
    GET  /readyz             every champion and experiment arm loaded and warmed (else 503)
    GET  /metrics            Prometheus metrics, TF Serving's names (serving.metrics_names);
                             also at TF Serving's /monitoring/prometheus/metrics
    GET  /docs               OpenAPI

With ``VOICEOPS_AUTH=required`` every endpoint but the health probes and the docs needs
``Authorization: Bearer <API key or token>`` whose role holds the endpoint's scope
(:mod:`core.access.roles`): 401 without a valid credential, 403 without the scope.

Bad input gets a 4xx with a one-line ``{"error": ...}``; a full batch queue 429 and a worker
at its in-flight limit 503, both with ``Retry-After``. Models load in a background thread at
start-up, so ``/healthz`` answers at once and ``/readyz`` says when turns can be served.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.access import Forbidden, Gatekeeper, Principal, Unauthorized
from core.access.roles import METRICS_READ, MODELS_READ, TURN
from core.errors import InputError
from core.net import free_port
from core.settings import Settings
from serving.app_state import ServingState, build_state
from serving.audio_input import decode_wav
from serving.batching import Overloaded
from serving.metrics_exposition import CONTENT_TYPE
from serving.metrics_names import grpc_status
from serving.options import ServingOptions
from serving.turn import TurnInput

log = logging.getLogger(__name__)

LANGUAGES = ("ru", "en")
TURN_FIELDS = {"audio", "text", "user_id", "session_id", "language"}


class TextTurn(BaseModel):
    """A turn sent as JSON (text only)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, description="what the caller said")
    user_id: str = Field(min_length=1, max_length=128, description="the caller (CRM id)")
    session_id: str = Field(default="", max_length=128, description="the call")
    language: str | None = Field(default=None, pattern="^(ru|en)$")


class Outcome(BaseModel):
    """How a call ended: resolved without an operator, or not."""

    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1, max_length=128)
    session_id: str = Field(min_length=1, max_length=128)
    resolved: bool


class ApiError(Exception):
    """An answer other than 200: status, one-line reason, extra headers."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status, self.reason, self.headers = status, reason, headers or {}


def _one_line(error: ValidationError | RequestValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"] if p != "body") or "body"
        reason = "unknown field" if item["type"] == "extra_forbidden" else item["msg"]
        parts.append(f"{where}: {reason}")
    return "; ".join(parts)


TURN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["user_id"],
                    "properties": {
                        "audio": {
                            "type": "string",
                            "format": "binary",
                            "description": "a PCM WAV file (any rate, mono or stereo)",
                        },
                        "text": {"type": "string"},
                        "user_id": {"type": "string"},
                        "session_id": {"type": "string"},
                        "language": {"type": "string", "enum": list(LANGUAGES)},
                    },
                }
            },
            "application/json": {"schema": TextTurn.model_json_schema()},
        },
    }
}


def create_app(
    settings: Settings | None = None,
    options: ServingOptions | None = None,
    *,
    state: ServingState | None = None,
) -> FastAPI:
    """The API; ``state`` (tests) replaces the one built from the registry at start-up."""
    settings = settings or Settings()
    options = options or ServingOptions()
    gatekeeper = Gatekeeper.from_settings(settings)

    def require(scope: str) -> Any:
        """A route dependency admitting callers whose role holds ``scope``."""

        def check(request: Request) -> Principal:
            try:
                return gatekeeper.authorize(request.headers.get("authorization"), scope)
            except Unauthorized as error:
                raise ApiError(401, str(error), {"WWW-Authenticate": "Bearer"}) from None
            except Forbidden as error:
                raise ApiError(403, str(error)) from None

        return Depends(check)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        nonlocal state
        if state is None:
            state = ServingState(settings, options)
            threading.Thread(target=build_state, args=(state,), daemon=True).start()
        app.state.serving = state
        try:
            yield
        finally:
            state.close()
            gatekeeper.close()

    app = FastAPI(
        title="VoiceOps voice bot",
        version="1",
        summary="One bot turn per request: STT -> NLU -> dialogue -> NLG -> TTS.",
        lifespan=lifespan,
    )

    def serving(request: Request) -> ServingState:
        return request.app.state.serving

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> JSONResponse:
        return JSONResponse({"error": error.reason}, error.status, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": _one_line(error)}, 422)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive (models may still be loading)."""
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        """200 once every champion and experiment arm is loaded and warmed."""
        report = serving(request).readiness()
        return JSONResponse(report, 200 if report["ready"] else 503)

    @app.get("/v1/models", dependencies=[require(MODELS_READ)])
    async def models(request: Request) -> dict[str, Any]:
        """Loaded versions, champions and versions that could not be loaded."""
        return serving(request).models_report()

    @app.post("/v1/turn", openapi_extra=TURN_BODY, dependencies=[require(TURN)])
    async def turn(request: Request, inline_audio: bool = False) -> JSONResponse:
        """One turn of a call: the bot's answer, and the versions and arm that served it."""
        state = serving(request)
        if state.metrics is None:
            return await _answer(state, request, inline_audio)
        started, status = time.perf_counter(), "INTERNAL"
        try:
            answer = await _answer(state, request, inline_audio)
            status = "OK"
            return answer
        except ApiError as error:
            status = grpc_status(error.status)
            raise
        finally:
            state.metrics.api_turn(status, time.perf_counter() - started)

    @app.get("/metrics", include_in_schema=False, dependencies=[require(METRICS_READ)])
    @app.get(
        "/monitoring/prometheus/metrics",
        include_in_schema=False,
        dependencies=[require(METRICS_READ)],
    )
    def metrics(request: Request) -> Response:
        """Prometheus metrics under TF Serving's names (and its path), summed over workers."""
        text = serving(request).metrics_text()
        if text is None:
            raise ApiError(404, "metrics are off (VOICEOPS_SERVING_METRICS=0)")
        return Response(text, media_type=CONTENT_TYPE)

    @app.post("/v1/outcome", dependencies=[require(TURN)])
    async def outcome(request: Request, body: Outcome) -> dict[str, Any]:
        """Record how a call ended (the experiments' resolution metric)."""
        return serving(request).record_outcome(body.user_id, body.session_id, body.resolved)

    @app.get("/v1/audio/{name}", dependencies=[require(TURN)])
    async def audio(request: Request, name: str) -> FileResponse:
        """A turn's response audio (kept for the last ``audio_keep`` turns)."""
        path = serving(request).audio_store.find(name)
        if path is None:
            raise ApiError(404, f"no response audio {name!r} (expired or never made)")
        return FileResponse(path, media_type="audio/wav")

    return app


async def _answer(state: ServingState, request: Request, inline_audio: bool) -> JSONResponse:
    """The turn's answer; :class:`ApiError` when it is refused."""
    if not state.ready:
        raise ApiError(503, state.not_ready_reason(), {"Retry-After": "5"})
    turn_input = await _read_turn(request, state.options)
    with state.admit() as admitted:
        if not admitted:
            raise ApiError(503, "too many turns in progress on this worker", {"Retry-After": "1"})
        try:
            result = await state.chain.turn(turn_input)
        except Overloaded as error:
            raise ApiError(429, str(error), {"Retry-After": f"{error.retry_after_s:.0f}"}) from None
        except Exception as error:
            # answered as a one-line 500 (the event and the traceback are kept): left
            # unhandled, it would also make the server close the caller's connection
            log.exception("turn of user %s failed", turn_input.user_id)
            reason = f"the turn failed: {type(error).__name__}: {error}"
            raise ApiError(500, reason.splitlines()[0][:300]) from None
    answer = result.to_dict()
    path = state.audio_store.save(result.turn_id, result.response_audio, result.sample_rate)
    answer["response_audio_url"] = f"/v1/audio/{path.name}"
    if inline_audio:
        answer["response_audio_wav_base64"] = base64.b64encode(path.read_bytes()).decode()
    return JSONResponse(answer)


async def _read_turn(request: Request, options: ServingOptions) -> TurnInput:
    """The turn in a JSON body or a form; :class:`ApiError` with a one-line reason."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    declared = request.headers.get("content-length")
    if kind == "application/json":
        if declared and int(declared) > options.max_json_bytes:
            raise ApiError(413, f"JSON body over {options.max_json_bytes} bytes")
        body = await request.body()
        if len(body) > options.max_json_bytes:
            raise ApiError(413, f"JSON body over {options.max_json_bytes} bytes")
        try:
            turn = TextTurn.model_validate(json.loads(body or b"null"))
        except json.JSONDecodeError as error:
            raise ApiError(400, f"body: not JSON ({error.msg} at {error.pos})") from None
        except ValidationError as error:
            raise ApiError(422, _one_line(error)) from None
        return _text_turn(turn.text, turn.user_id, turn.session_id, turn.language, options)
    if kind not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise ApiError(415, "send multipart/form-data (audio or text) or application/json")
    limit = options.max_audio_bytes + 64 * 1024
    if declared and int(declared) > limit:
        raise ApiError(413, f"request over {limit} bytes (audio limit {options.max_audio_bytes})")
    form = await request.form(max_files=1, max_fields=8)
    unknown = sorted(set(form) - TURN_FIELDS)
    if unknown:
        raise ApiError(
            422, f"{unknown[0]}: unknown field (fields: {', '.join(sorted(TURN_FIELDS))})"
        )
    user_id = str(form.get("user_id") or "").strip()
    if not user_id:
        raise ApiError(422, "user_id: field required")
    session_id = str(form.get("session_id") or "")
    language = form.get("language") or None
    if language is not None and language not in LANGUAGES:
        raise ApiError(422, f"language: must be one of {', '.join(LANGUAGES)}")
    upload, text = form.get("audio"), form.get("text")
    if upload is not None and text is not None:
        raise ApiError(422, "send either audio or text, not both")
    if upload is None:
        if text is None:
            raise ApiError(422, "audio or text: one of them is required")
        return _text_turn(str(text), user_id, session_id, language, options)
    if isinstance(upload, str):
        raise ApiError(422, "audio: must be a file upload (a WAV)")
    data = await upload.read(options.max_audio_bytes + 1)
    try:
        decoded = decode_wav(data, options.audio_limits)
    except InputError as error:
        status = 413 if "over the limit" in str(error) else 400
        raise ApiError(status, str(error)) from None
    return TurnInput(user_id, session_id or user_id, audio=decoded, language=language)


def _text_turn(
    text: str, user_id: str, session_id: str, language: str | None, options: ServingOptions
) -> TurnInput:
    text = text.strip()
    if not text:
        raise ApiError(422, "text: empty")
    if len(text) > options.max_text_chars:
        raise ApiError(413, f"text: {len(text)} characters, over {options.max_text_chars}")
    return TurnInput(user_id.strip(), session_id or user_id, text=text, language=language)


def app_from_environment() -> FastAPI:
    """The app of one ``uvicorn`` worker (``--factory``): settings from the environment."""
    return create_app()


class ThreadedServer:
    """The API served by uvicorn from a background thread (tests, benchmarks)."""

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        port = port or free_port(host)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.url = f"http://{host}:{port}"
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def __enter__(self) -> ThreadedServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"the API did not start on {self.url}")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
