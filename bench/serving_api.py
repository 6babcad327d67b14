"""The turn API against the in-process chain, measured in the same run.

- **in-process**: ``BotChain.turn`` awaited directly (the same loaded models, batchers, bank
  and event log as the API): the floor any HTTP API pays on top of.
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
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from bench._common import Figure, bench_main, format_table, ratio, write_results

NAME = "serving_api"
CLIENTS = (1, 4, 16)
TURNS_PER_CLIENT, QUICK_TURNS = 12, 4
OVERLOAD = 10
OVERHEAD_TARGET = 1.2
SCALING_TARGET = 2.0


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def _models(work: Path, quick: bool) -> tuple[dict[str, Any], str]:
    from core.settings import get_settings
    from training.families import FAMILIES

    if not quick:
        try:
            from registry.loading import load_model

            settings = get_settings()
            return {n: load_model(n, settings=settings) for n in FAMILIES}, "registry champions"
        except Exception as error:  # no demo registry: fall back to tiny models
            print(f"no champions under {get_settings().home} ({error}); training tiny models")
    from bench._tiny_models import load_models, tiny_model_paths

    return load_models(tiny_model_paths(work / "models")), "tiny models"


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
            request = TurnInput("bench", f"ip-{i}", audio=decode_wav(wav), language=language)
            start = time.perf_counter()
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


def run(quick: bool = False) -> dict[str, Any]:
    from core.settings import Settings
    from ingestion.simulator.day import write_day
    from serving.api import ThreadedServer, create_app
    from serving.app_state import ServingState, connect
    from serving.options import ServingOptions
    from serving.traffic import customers

    turns = QUICK_TURNS if quick else TURNS_PER_CLIENT
    with tempfile.TemporaryDirectory(prefix="voiceops-bench-serving-") as tmp:
        work = Path(tmp)
        models, source = _models(work, quick)
        speech = _speech(work, 8 if quick else 24)
        settings = Settings(home=work / "home")
        write_day(settings.sources_root, 1, calls=20, seed=5, bad_rate=0.0, audio=False)
        user = customers(settings.sources_root, 1)[0]

        def state_with(options: ServingOptions) -> ServingState:
            state = ServingState(settings, options)
            for name, model in models.items():
                state.pool.install(name, "1", model, champion=True)
            return connect(state, None)

        state = state_with(ServingOptions())
        _in_process(state, speech, 3)  # warm the batchers' threads and the bank
        inproc = _in_process(state, speech, turns)
        rows, results = [], {}
        with ThreadedServer(create_app(settings, state.options, state=state)) as server:
            _clients(server.url, user, speech, 1, 2)  # warm-up
            for clients in CLIENTS:
                result = _clients(server.url, user, speech, clients, turns)
                results[clients] = result
                rate = len(result["times"]) / result["seconds"]
                rows.append(
                    [
                        f"API, {clients} client(s)",
                        round(statistics.median(result["times"]), 1),
                        round(_percentile(result["times"], 0.99), 1),
                        round(rate, 2),
                        result["refused"],
                        result["errors"],
                    ]
                )
        inproc_rate = len(inproc) / (sum(inproc) / 1000)
        rows.insert(
            0,
            [
                "in-process chain, 1 caller",
                round(statistics.median(inproc), 1),
                round(_percentile(inproc, 0.99), 1),
                round(inproc_rate, 2),
                0,
                0,
            ],
        )

        small = ServingOptions(max_inflight=16, max_queue=8)
        overloaded = state_with(small)
        before = _rss_mb()
        peak = [before]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.05):
                peak[0] = max(peak[0], _rss_mb())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        with ThreadedServer(create_app(settings, small, state=overloaded)) as server:
            storm = _clients(server.url, user, speech, OVERLOAD * CLIENTS[-1], 2)
        done.set()
        sampler.join()
        overloaded.close()
        state.close()

    one = results[1]
    overhead = ratio(statistics.median(one["times"]), statistics.median(inproc))
    scaling = ratio(
        len(results[16]["times"]) / results[16]["seconds"],
        len(one["times"]) / one["seconds"],
    )
    print(f"models: {source}; {turns} turns per client; WAV turns (all five stages)")
    print(format_table(["run", "p50 ms", "p99 ms", "turns/s", "429/503", "errors"], rows))
    print(
        f"overload: {OVERLOAD * CLIENTS[-1]} clients x 2 turns: {len(storm['times'])} answered,"
        f" {storm['refused']} refused (429/503), {storm['errors']} errors; RSS "
        f"{before:.0f} MB -> peak {peak[0]:.0f} MB"
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
        Figure(NAME, "peak RSS under 10x overload vs before", ratio(peak[0], before), "x"),
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
