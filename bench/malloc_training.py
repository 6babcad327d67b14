"""TensorFlow training on jemalloc (``scripts/with_jemalloc.sh``) against glibc's malloc.

The same training steps run in two child processes, one with jemalloc preloaded and one
without, alternated ``--rounds`` times: the TTS demo model (batches of 8 utterances of
~2-4 s, the demo mart's shapes) and the STT demo model (16 s of audio per batch). Inputs are
random: a step's time does not depend on their values. Reported: seconds per step (median
over rounds) and the speed-up. Needs libjemalloc2 (``scripts/install_system_deps.sh``).

    python -m bench.malloc_training [--quick]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence

import numpy as np

from bench._common import (
    PROJECT_DIR,
    Figure,
    bench_main,
    format_table,
    median,
    ms,
    ratio,
    write_results,
)

NAME = "malloc_training"
FAMILIES = ("tts", "stt")
STEPS, QUICK_STEPS = 60, 15
ROUNDS, QUICK_ROUNDS = 2, 1


def _tts_batches(n: int) -> list:
    """``n`` TTS batches of 8: 30-60 symbols of 2-12 frames each (the demo mart's range)."""
    import tensorflow as tf

    from training.tts.config import TTSConfig
    from training.tts.speakers import SpeakerParser

    config = TTSConfig.demo()
    rng = np.random.default_rng(0)
    batches = []
    for _ in range(n):
        width = int(rng.integers(30, 60))
        durations = rng.integers(2, 12, size=(8, width)).astype(np.int32)
        frames = int(durations.sum(axis=1).max())
        inputs = {
            "chars": tf.constant(rng.integers(1, 40, size=(8, width)).astype(np.int32)),
            "language": tf.constant(rng.integers(0, 2, size=8).astype(np.int32)),
            "variant": tf.constant(rng.integers(0, SpeakerParser.n_variants, 8).astype(np.int32)),
            "accent": tf.constant(rng.integers(0, SpeakerParser.n_accents, 8).astype(np.int32)),
            "prosody": tf.constant(rng.normal(size=(8, 2)).astype(np.float32)),
            "durations": tf.constant(durations),
        }
        mel = rng.normal(size=(8, frames, config.n_mels)).astype(np.float32)
        batches.append((inputs, tf.constant(mel)))
    return batches


def _tts_step():
    import keras

    from training.tts.config import TTSConfig
    from training.tts.model import FastSpeech

    model = FastSpeech(TTSConfig.demo())
    model.compile(optimizer=keras.optimizers.AdamW(1e-3))
    return lambda inputs, target: model.train_on_batch(inputs, target)


def _stt_batches(n: int) -> list:
    from bench.stt_ctc_loss import _batches
    from training.stt.config import STTConfig

    config = STTConfig.demo()
    cycle = _batches(config.n_mels, config.max_batch_seconds)
    return [cycle[i % len(cycle)] for i in range(n)]


def _stt_step():
    from bench.stt_ctc_loss import _step_fns
    from training.stt.config import STTConfig
    from training.stt.model import ctc_loss

    return _step_fns(ctc_loss, STTConfig.demo())[1]


def child(family: str, steps: int) -> float:
    """Seconds per training step of ``family`` in this process (after a traced warm-up)."""
    batches = (_tts_batches if family == "tts" else _stt_batches)(steps)
    step = (_tts_step if family == "tts" else _stt_step)()
    for inputs, target in batches[:5]:
        step(inputs, target)
    start = time.perf_counter()
    for inputs, target in batches:
        step(inputs, target)
    return (time.perf_counter() - start) / len(batches)


def _measure(family: str, steps: int, jemalloc: bool) -> float:
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    env |= {"VOICEOPS_NO_JEMALLOC": "0" if jemalloc else "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [str(PROJECT_DIR / "scripts" / "with_jemalloc.sh"), sys.executable]
    command += ["-m", "bench.malloc_training", "--child", family, str(steps)]
    out = subprocess.run(command, env=env, cwd=PROJECT_DIR, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{family} child failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds_per_step"]


def run(quick: bool = False) -> dict:
    steps = QUICK_STEPS if quick else STEPS
    rounds = QUICK_ROUNDS if quick else ROUNDS
    rows, figures = [], []
    for family in FAMILIES:
        glibc, jemalloc = [], []
        for _ in range(rounds):
            glibc.append(_measure(family, steps, jemalloc=False))
            jemalloc.append(_measure(family, steps, jemalloc=True))
        speedup = ratio(median(glibc), median(jemalloc))
        rows.append([family, ms(median(glibc)), ms(median(jemalloc)), speedup])
        figures.append(Figure(NAME, f"{family} train step speed-up (jemalloc)", speedup, "x"))
    print(format_table(["family", "glibc ms/step", "jemalloc ms/step", "speed-up"], rows))
    data = {"rows": rows, "figures": figures, "steps": steps, "rounds": rounds}
    write_results(NAME, data)
    return data


def main(argv: Sequence[str] | None = None) -> None:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "--child":
        print(json.dumps({"seconds_per_step": child(argv[1], int(argv[2]))}))
        return
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
