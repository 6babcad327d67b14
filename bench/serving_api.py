"""The turn API against the in-process chain, measured in the same run.

- **in-process**: the WAV decoded and ``BotChain.turn`` awaited directly (the same loaded
  models, batchers, bank and event log as the API): the floor any HTTP API pays on top of.
- **API**: ``POST /v1/turn`` (multipart WAV: STT -> NLU -> dialogue -> NLG -> TTS) from 1, 4
  and 16 concurrent clients; p50/p99 latency and turns per second. Cross-request batching of
  STT and TTS is what lets 16 clients get more turns through than 1.
- **overload**: 10x the 16 clients at once against a worker with small limits; how many
  turns were answered, refused with 429/503, and the process's peak RSS over its RSS before.

Models: the registry's champions under ``VOICEOPS_HOME`` when ``make demo`` has made them,
else every family trained at its tiny size (``--quick`` always uses tiny models).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from bench._common import Figure, bench_main, format_table, ratio, write_results
from core.net import free_port

NAME = "serving_api"
CLIENTS = (1, 4, 16)
TURNS_PER_CLIENT, QUICK_TURNS = 12, 4
OVERLOAD = 10
OVERHEAD_TARGET = 1.2
SCALING_TARGET = 2.0


def _rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` and its children (uvicorn workers), MB."""
    total = 0
    for one in (pid, *_children(pid)):
        try:
            with open(f"/proc/{one}/statm") as statm:
                total += int(statm.read().split()[1]) * 4096
        except FileNotFoundError:
            continue
    return total / 2**20


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of process ``pid`` and its children (uvicorn workers), s."""
    total = 0
    for one in (pid, *_children(pid)):
        try:
            with open(f"/proc/{one}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(child) for child in children.read().split()]
    except FileNotFoundError:
        return []


def _models(work: Path, quick: bool) -> tuple[dict[str, Any], str, dict[str, Path] | None]:
    """Loaded models, where they come from, and their SavedModel paths (tiny models only)."""
    from core.settings import get_settings
    from training.families import FAMILIES

    if not quick:
        try:
            from registry.loading import load_model

            settings = get_settings()
            models = {n: load_model(n, settings=settings) for n in FAMILIES}
            return models, "registry champions", None
        except Exception as error:  # no demo registry: fall back to tiny models
            print(f"no champions under {get_settings().home} ({error}); training tiny models")
    from bench._tiny_models import load_models, tiny_model_paths

    paths = tiny_model_paths(work / "models")
    return load_models(paths), "tiny models", paths


class ApiProcess:
    """The API in its own process, as deployed: ``voiceops serve`` on the registry's
    champions, or uvicorn over the tiny models (``bench._tiny_models.app_factory``); its
    stderr discarded unless ``stderr`` says where."""

    def __init__(
        self,
        settings: Any,
        paths: dict[str, Path] | None,
        workers: int = 1,
        stderr: Any = subprocess.DEVNULL,
        **options: str,
    ) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = (
            os.environ
            | options
            | {
                "VOICEOPS_HOME": str(settings.home),
                "VOICEOPS_SOURCES_DIR": str(settings.sources_root),
                "TF_CPP_MIN_LOG_LEVEL": "3",
            }
        )
        quiet = ["--port", str(port), "--log-level", "warning", "--workers", str(workers)]
        if paths is None:
            command = [sys.executable, "-m", "voiceops.cli", "serve", *quiet]
        else:
            env["VOICEOPS_TEST_MODELS"] = json.dumps({k: str(v) for k, v in paths.items()})
            factory = "bench._tiny_models:app_factory"
            command = [sys.executable, "-m", "uvicorn", "--factory", factory, *quiet]
        self.process = subprocess.Popen(command, env=env, stderr=stderr)

    def __enter__(self) -> ApiProcess:
        from serving.client import TurnClient

        with TurnClient(self.url) as client:
            client.wait_ready(timeout_s=600)
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def _speech(work: Path, count: int) -> list[tuple[str, bytes]]:
    """(language, WAV bytes) of simulated utterances spoken by held-out voices."""
    from core.audio import render_speech
    from core.language import INTENT_WEIGHTS, utterance
    from core.voices import speakers

    rng, out = random.Random(3), []
    intents = sorted(INTENT_WEIGHTS)
    for i in range(count):
        language = ("ru", "en")[i % 2]
        said = utterance(rng.choice(intents), language, rng, date(2026, 1, 15))
        speaker = next(s for s in speakers(language) if s.held_out)
        path = work / f"u{i}.wav"
        render_speech(said.text, speaker, path)
        out.append((language, path.read_bytes()))
    return out


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * q), len(ordered) - 1)]


def _in_process(state: Any, speech: list[tuple[str, bytes]], turns: int) -> list[float]:
    from serving.audio_input import decode_wav
    from serving.turn import TurnInput

    async def run() -> list[float]:
        times = []
        for i in range(turns):
            language, wav = speech[i % len(speech)]
            start = time.perf_counter()
            request = TurnInput("bench", f"ip-{i}", audio=decode_wav(wav), language=language)
            await state.chain.turn(request)
            times.append((time.perf_counter() - start) * 1000)
        return times

    return asyncio.run(run())


def _clients(url: str, user: str, speech: list, clients: int, turns: int) -> dict[str, Any]:
    """``clients`` threads, each sending ``turns`` turns one after the other."""
    import httpx

    times: list[float] = []
    refused = errors = 0
    lock = threading.Lock()

    def client(index: int) -> None:
        nonlocal refused, errors
        with httpx.Client(base_url=url, timeout=120) as http:
            for i in range(turns):
                language, wav = speech[(index * turns + i) % len(speech)]
                start = time.perf_counter()
                response = http.post(
                    "/v1/turn",
                    data={"user_id": user, "session_id": f"c{index}", "language": language},
                    files={"audio": ("turn.wav", wav, "audio/wav")},
                )
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    if response.status_code == 200:
                        times.append(elapsed)
                    elif response.status_code in (429, 503):
                        refused += 1
                    else:
                        errors += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    seconds = time.perf_counter() - started
    return {"times": times, "refused": refused, "errors": errors, "seconds": seconds}


def _row(
    name: str, times: list[float], rate: float, refused: int, errors: int, cores: float
) -> list:
    return [
        name,
        round(statistics.median(times), 1),
        round(_percentile(times, 0.99), 1),
        round(rate, 2),
        refused,
        errors,
        round(cores, 2),
    ]


def _in_process_run(
    settings: Any, models: dict[str, Any], speech: list, turns: int
) -> tuple[list[float], float]:
    """Turn times (ms) of the in-process chain, and the CPU cores it kept busy."""
    from serving.app_state import ServingState, connect
    from serving.options import ServingOptions

    state = ServingState(settings, ServingOptions())
    for name, model in models.items():
        state.pool.install(name, "1", model, champion=True)
    connect(state, None)
    _in_process(state, speech, 3)  # warm the batchers' threads and the bank
    cpu, wall = time.process_time(), time.perf_counter()
    times = _in_process(state, speech, turns)
    cores = (time.process_time() - cpu) / (time.perf_counter() - wall)
    state.close()
    return times, cores


def _overload(settings: Any, paths: dict[str, Path] | None, user: str, speech: list):
    """10x the clients against a worker with small limits; answers and RSS before/peak."""
    limits = {"VOICEOPS_SERVING_MAX_INFLIGHT": "16", "VOICEOPS_SERVING_MAX_QUEUE": "8"}
    with ApiProcess(settings, paths, **limits) as api:
        _clients(api.url, user, speech, 1, 2)  # warm-up
        before = _rss_mb(api.process.pid)
        peak = [before]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.05):
                peak[0] = max(peak[0], _rss_mb(api.process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        storm = _clients(api.url, user, speech, OVERLOAD * CLIENTS[-1], 2)
        done.set()
        sampler.join()
    return storm, before, peak[0]


def run(quick: bool = False) -> dict[str, Any]:
    from core.settings import Settings, get_settings
    from ingestion.simulator.day import write_day
    from serving.traffic import customers

    turns = QUICK_TURNS if quick else TURNS_PER_CLIENT
    with tempfile.TemporaryDirectory(prefix="voiceops-bench-serving-") as tmp:
        work = Path(tmp)
        models, source, paths = _models(work, quick)
        speech = _speech(work, 8 if quick else 24)
        # the champions live in the project's home; tiny models get a scratch home
        settings = get_settings() if paths is None else Settings(home=work / "home")
        if not (settings.sources_root / "crm").is_dir():
            write_day(settings.sources_root, 1, calls=20, seed=5, bad_rate=0.0, audio=False)
        user = customers(settings.sources_root, 1)[0]
        inproc, cores = _in_process_run(settings, models, speech, turns)
        rate = len(inproc) / (sum(inproc) / 1000)
        rows = [_row("in-process chain, 1 caller", inproc, rate, 0, 0, cores)]
        results = {}
        with ApiProcess(settings, paths) as api:
            _clients(api.url, user, speech, 1, 2)  # warm-up
            for clients in CLIENTS:
                cpu = _cpu_seconds(api.process.pid)
                result = results[clients] = _clients(api.url, user, speech, clients, turns)
                cores = (_cpu_seconds(api.process.pid) - cpu) / result["seconds"]
                rate = len(result["times"]) / result["seconds"]
                rows.append(
                    _row(
                        f"API, {clients} client(s)",
                        result["times"],
                        rate,
                        result["refused"],
                        result["errors"],
                        cores,
                    )
                )
        storm, before, peak = _overload(settings, paths, user, speech)

    one = results[1]
    overhead = ratio(statistics.median(one["times"]), statistics.median(inproc))
    scaling = ratio(
        len(results[16]["times"]) / results[16]["seconds"],
        len(one["times"]) / one["seconds"],
    )
    print(
        f"models: {source}; {turns} turns per client; WAV turns (all five stages); "
        "the API in its own process"
    )
    print(
        format_table(
            ["run", "p50 ms", "p99 ms", "turns/s", "429/503", "errors", "CPU cores busy"], rows
        )
    )
    print(
        f"overload: {OVERLOAD * CLIENTS[-1]} clients x 2 turns: {len(storm['times'])} answered,"
        f" {storm['refused']} refused (429/503), {storm['errors']} errors; API RSS "
        f"{before:.0f} MB -> peak {peak:.0f} MB"
    )
    figures = [
        Figure(
            NAME,
            "API p50 at 1 client vs in-process",
            overhead,
            "x",
            f"<= {OVERHEAD_TARGET}",
            overhead <= OVERHEAD_TARGET,
        ),
        Figure(
            NAME,
            "throughput 16 clients vs 1",
            scaling,
            "x",
            f">= {SCALING_TARGET}",
            scaling >= SCALING_TARGET,
        ),
        Figure(NAME, "peak RSS under 10x overload vs before", ratio(peak, before), "x"),
        Figure(NAME, "overload turns refused (429/503)", storm["refused"], ""),
        Figure(
            NAME, "overload errors (not 429/503)", storm["errors"], "", "0", storm["errors"] == 0
        ),
    ]
    data = {"rows": rows, "figures": figures, "models": source, "turns": turns}
    write_results(NAME, data)
    return data


def main(argv: Sequence[str] | None = None) -> None:
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
