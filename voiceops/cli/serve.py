"""``voiceops serve``: the bot's turn API; ``voiceops turn``: one turn against it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from core.net import free_port
from voiceops.cli._output import CliError, print_json

DEFAULT_URL = "http://127.0.0.1:8700"


def _start_bank(sources: Path) -> tuple[subprocess.Popen, str]:
    """The simulated bank's API in its own process (its Python work does not compete with
    the workers' for the GIL), on a free port; returns once it answers ``/health``."""
    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    module = "ingestion.simulator.bank_service"
    command = [sys.executable, "-m", module, "--sources", str(sources), "--port", str(port)]
    bank = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and bank.poll() is None:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return bank, url
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    bank.kill()
    raise CliError(f"the simulated bank did not start on {url}")


def _check_exposure(host: str, auth: str) -> None:
    """Refuse to listen beyond loopback without access control."""
    from core.net import is_loopback

    if auth != "required" and not is_loopback(host):
        raise CliError(
            f"--host {host} would expose the API without access control: set "
            "VOICEOPS_AUTH=required and create keys (`voiceops access create-key`), or "
            "listen on 127.0.0.1"
        )


def serve_cmd(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (default 8700).")] = 8700,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (each loads the models once).")
    ] = 1,
    bank_url: Annotated[
        str,
        typer.Option(
            envvar="VOICEOPS_SERVING_BANK_URL",
            help="The bank's back end; default: the simulator's, started here.",
        ),
    ] = "",
    max_inflight: Annotated[
        int,
        typer.Option(
            min=1,
            envvar="VOICEOPS_SERVING_MAX_INFLIGHT",
            help="Turns in progress per worker before 503.",
        ),
    ] = 64,
    allow_ungated: Annotated[
        bool,
        typer.Option(
            envvar="VOICEOPS_SERVING_ALLOW_UNGATED",
            help="Serve versions the gate refused (debugging only).",
        ),
    ] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the voice bot: POST /v1/turn, /healthz, /readyz, /metrics, OpenAPI at /docs."""
    import uvicorn

    from core.settings import get_settings
    from serving.metrics_exposition import shared_metrics_dir
    from serving.options import ServingOptions

    settings = get_settings()
    _check_exposure(host, settings.auth)
    bank = None
    if not bank_url:  # one bank service for every worker, in its own process
        if not (settings.sources_root / "crm").is_dir():
            raise CliError(
                f"no simulated CRM under {settings.sources_root}: run `voiceops simulate day` "
                "(or `make demo`) first, or pass --bank-url"
            )
        bank, bank_url = _start_bank(settings.sources_root)
    options = {
        "VOICEOPS_SERVING_BANK_URL": bank_url,
        "VOICEOPS_SERVING_MAX_INFLIGHT": str(max_inflight),
        "VOICEOPS_SERVING_ALLOW_UNGATED": "1" if allow_ungated else "0",
    }
    os.environ.update(options)
    ServingOptions()  # refuse bad values before any worker starts
    if workers == 1:  # the worker is this process: TensorFlow without its start-up notices
        from voiceops.cli._tensorflow import import_tensorflow

        import_tensorflow()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    typer.echo(f"voiceops serve: http://{host}:{port} ({workers} worker(s)), bank {bank_url}")
    # uvicorn re-raises SIGTERM after its graceful shutdown: turn it into SystemExit so that
    # the bank process is stopped below
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # several workers write their metrics to one fresh directory; a scrape sums them all
    metrics_dir = shared_metrics_dir() if workers > 1 else contextlib.nullcontext()
    try:
        with metrics_dir:
            uvicorn.run(
                "serving.api:app_from_environment",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level=log_level,
            )
    finally:
        if bank is not None:
            bank.terminate()
            bank.wait(timeout=30)


def turn_cmd(
    audio: Annotated[
        Path | None, typer.Argument(help="A WAV file of the caller's words.", exists=True)
    ] = None,
    text: Annotated[str | None, typer.Option(help="The caller's words as text.")] = None,
    user: Annotated[str, typer.Option(help="The caller's id (a CRM customer id).")] = "",
    session: Annotated[str, typer.Option(help="The call's id (default: the user id).")] = "",
    language: Annotated[str | None, typer.Option(help="ru or en (default: detected).")] = None,
    url: Annotated[str, typer.Option(help="The API.")] = DEFAULT_URL,
    out: Annotated[
        Path | None, typer.Option(help="Where to save the response audio (WAV).")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the answer.")] = 60.0,
) -> None:
    """Send one turn (a WAV file or --text) to the API and print its answer as JSON."""
    from serving.client import TurnClient, TurnRefused

    if (audio is None) == (text is None):
        raise CliError("give either a WAV file or --text")
    if not user:
        raise CliError("--user is required (the caller's id)")
    with TurnClient(url, timeout_s=timeout) as client:
        try:
            answer = client.turn(user, session or user, text=text, audio=audio, language=language)
            if out is not None:
                client.download_audio(answer, out)
                answer["response_audio_path"] = str(out)
        except TurnRefused as error:
            raise CliError(str(error)) from None
    print_json(answer)
