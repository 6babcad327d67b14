"""Synthesis time per utterance per engine, and the telephone line's cost per utterance.

For each engine of ``core.voices`` (espeak-ng, flite, Festival English, Festival Russian), the
same simulated customer phrases are synthesized with catalog voices (the first Festival call of
a thread starts its ``festival --pipe`` process; it is timed apart as ``start``); then one
utterance is passed through the clean line and through each codec of a degraded line
(``core.telephony.apply_line``). Last, the calls of a ``voiceops demo``-sized run (days of
1,500 and 500 calls, seed 42) are planned, without audio, to count the distinct festvox-ru
sentences per split they carry. Prints tables; results go to ``bench/results/voices.json``.

    python -m bench.voices [--utterances 20]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench._common import median, write_results
from core import language as nl
from core import telephony
from core.audio import real_speech_utterances
from core.splits import normalize_text, real_speech_split
from core.synthesis import close_festival_sessions, synthesize
from core.voices import engine_speakers
from ingestion.simulator import crm, layout
from ingestion.simulator.calls import plan_calls

ENGINES = (
    ("espeak", "en"),
    ("espeak", "ru"),
    ("flite", "en"),
    ("festival", "en"),
    ("festival", "ru"),
)
LINES = (
    "clean",
    "ulaw:band=300-3400:loss=0.020:snr=15:noise=line:reverb=0.00:clip=0.00",
    "alaw:band=300-3400:loss=0.020:snr=15:noise=babble:reverb=0.00:clip=0.00",
    "gsm:band=300-3400:loss=0.020:snr=15:noise=babble:reverb=0.50:clip=0.00",
)


def _phrases(language: str, count: int) -> list[str]:
    rng = random.Random(f"bench-voices:{language}")
    intents = list(nl.INTENT_WEIGHTS)
    return [
        nl.utterance(rng.choice(intents), language, rng, date(2026, 1, 15)).text
        for _ in range(count)
    ]


def real_sentences_in_demo(days: tuple[int, ...] = (1500, 500), seed: int = 42) -> dict[str, Any]:
    """Distinct festvox-ru sentences per split in the calls of the demo's published days."""
    real = {"ru": real_speech_utterances("ru"), "en": []}
    total: dict[str, set[str]] = {"train": set(), "validation": set(), "test_real": set()}
    for text, _, _ in real["ru"]:
        total[real_speech_split(text)].add(normalize_text(text))
    landed: dict[str, set[str]] = {split: set() for split in total}
    calls = 0
    with tempfile.TemporaryDirectory() as tmp, crm.connect(layout.crm_database(Path(tmp))) as conn:
        for day, count in enumerate(days, 1):
            customers = crm.add_customers(conn, day, crm.new_customer_count(day, count), seed)
            for plan in plan_calls(seed, day, count, customers, real, audio=True):
                calls += plan.real_source is not None
                if plan.real_source is not None:
                    text = plan.record["transcript"]
                    landed[real_speech_split(text)].add(normalize_text(text))
    return {
        "real_calls": calls,
        "landed": {split: len(texts) for split, texts in landed.items()},
        "available": {split: len(texts) for split, texts in total.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--utterances", type=int, default=20)
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    for engine, language in ENGINES:
        voices = engine_speakers(engine, language)
        phrases = _phrases(language, args.utterances)
        start = time.perf_counter()
        synthesize(phrases[0], voices[0].id)  # Festival: the process start and voice load
        first = time.perf_counter() - start
        times, audio_s = [], 0.0
        for k, text in enumerate(phrases):
            start = time.perf_counter()
            samples, _, rate = synthesize(text, voices[k % len(voices)].id)
            times.append(time.perf_counter() - start)
            audio_s += len(samples) / rate
        results[f"{engine}/{language}"] = {
            "start_s": round(first, 3),
            "median_s": round(median(times), 3),
            "real_time_factor": round(sum(times) / audio_s, 3),
        }
    close_festival_sessions()
    samples, _, rate = synthesize(_phrases("en", 1)[0], "espeak:en-us+m1:s160:p50")
    for label in LINES:
        profile = telephony.parse_line(label)
        times = []
        for seed in range(10):
            start = time.perf_counter()
            telephony.apply_line(samples, rate, 8000, profile, seed)
            times.append(time.perf_counter() - start)
        results[f"line/{label.split(':')[0]}"] = {"median_s": round(median(times), 4)}
    print(f"{'engine or line':<16} {'first call s':>12} {'median s/utt':>13} {'RTF':>6}")
    for name, figures in results.items():
        print(
            f"{name:<16} {figures.get('start_s', ''):>12} {figures['median_s']:>13} "
            f"{figures.get('real_time_factor', ''):>6}"
        )
    demo = real_sentences_in_demo()
    print(f"demo-sized run: {demo['real_calls']} real speech calls; distinct sentences landed")
    for split, count in demo["landed"].items():
        print(f"  {split:<10} {count:>4} of {demo['available'][split]}")
    write_results("voices", {"engines_and_lines": results, "demo_real_sentences": demo})


if __name__ == "__main__":
    main()
