"""Alignment of natural-voice rows (flite, Festival): how many align and how long each takes.

For each flite and Festival voice of ``core.voices``, simulated customer phrases are spoken by
the voice's catalog settings (tempo, pitch, gain) on lines drawn as the simulator draws them
(``core.audio.render_speech``, cached under /tmp), then aligned one by one with
``training.tts.natural_durations`` (one Festival process and one libflite for all of them, as
``training.tts.data.prepare`` does). Reported per voice: rows aligned, the reasons of the
others, the median seconds per alignment and the first alignment's (Festival: its process
start and voice load). Results go to ``bench/results/natural_alignment.json``.

    python -m bench.natural_alignment [--utterances 20]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from bench._common import median, write_results
from core import language as nl
from core.audio import render_speech
from core.telephony import DEGRADED_LINE_SHARE, draw_line
from core.voices import NATURAL_VOICES, natural_speakers
from training.common.audio import read_wav
from training.tts.engine_timings import NaturalEngines
from training.tts.natural_durations import natural_durations

CACHE = Path("/tmp/voiceops-bench-natural-rows")


def _rows(engine: str, language: str, voice: str, count: int) -> list[tuple[str, str, Path]]:
    """``count`` (text, speaker id, wav) of one voice, rendered once and cached."""
    rng = random.Random(f"bench-natural:{engine}:{voice}")
    settings = [s for s in natural_speakers(engine, language) if s.id.split(":")[1] == voice]
    intents = list(nl.INTENT_WEIGHTS)
    rows = []
    for _ in range(count):
        text = nl.utterance(rng.choice(intents), language, rng, date(2026, 1, 15)).text
        speaker = rng.choice(settings)
        line = draw_line(rng.randrange(1 << 31), DEGRADED_LINE_SHARE)
        key = hashlib.sha256(f"{text}|{speaker.id}|{line.label}".encode()).hexdigest()[:16]
        path = CACHE / f"{key}.wav"
        if not path.exists():
            render_speech(text, speaker, path, line=line)
        rows.append((text, speaker.id, path))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--utterances", type=int, default=20)
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, Any]] = {}
    for engine, languages in NATURAL_VOICES.items():
        for language, voices in languages.items():
            for voice in voices:
                rows = _rows(engine, language, voice, args.utterances)
                outcomes: Counter[str] = Counter()
                times = []
                with NaturalEngines() as engines:
                    for text, speaker, path in rows:
                        recorded = len(read_wav(str(path))[0])
                        start = time.perf_counter()
                        result = natural_durations(text, speaker, recorded, 8000, 80, engines)
                        times.append(time.perf_counter() - start)
                        outcomes["aligned" if isinstance(result, tuple) else result] += 1
                results[f"{engine}:{voice}"] = {
                    "language": language,
                    "rows": len(rows),
                    "aligned": outcomes.pop("aligned", 0),
                    "skipped": dict(outcomes),
                    "first_s": round(times[0], 3),
                    "median_s": round(median(times[1:] or times), 3),
                }
    print(f"{'voice':<34} {'aligned':>9} {'first s':>8} {'median s':>9}  skipped")
    for name, figures in results.items():
        aligned = f"{figures['aligned']}/{figures['rows']}"
        print(
            f"{name:<34} {aligned:>9} {figures['first_s']:>8} {figures['median_s']:>9}  "
            f"{figures['skipped'] or ''}"
        )
    write_results("natural_alignment", results)


if __name__ == "__main__":
    main()
