"""TensorFlow training on jemalloc (``scripts/with_jemalloc.sh``) against glibc's malloc.

The same training epoch runs in two child processes, one with jemalloc preloaded and one
without, alternated: the TTS and STT demo models fitted through their real input pipelines
(``model.fit`` on the families' ``tf.data`` datasets) on random utterances of the demo
mart's lengths (a step's time does not depend on the values). Reported: seconds per batch
(median over rounds) and the speed-up. Needs libjemalloc2 (``scripts/install_system_deps.sh``).

    python -m bench.malloc_training [--quick]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

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
UTTERANCES, QUICK_UTTERANCES = 400, 120
ROUNDS, QUICK_ROUNDS = 2, 1


def tts_epoch(utterances: int, config=None):
    """A function fitting one epoch of the TTS demo model (or ``config``'s) on the real input
    pipeline (``training.tts.data.dataset``), with random symbols, durations and mels, and
    the epoch's batch count."""
    from training.common.optim import warmup_cosine_adamw
    from training.tts.config import TTSConfig
    from training.tts.data import Examples, dataset
    from training.tts.model import FastSpeech

    config = config or TTSConfig.demo()
    rng = np.random.default_rng(0)
    examples = Examples()
    for i in range(utterances):
        n = int(rng.integers(30, 60))
        durations = rng.integers(1, 10, size=n + 2).astype(np.int32)
        examples.texts.append("".join(rng.choice(list("абвгдеклмно abcdefghik"), n)))
        examples.languages.append("ru" if i % 2 else "en")
        examples.speakers.append(config.house_ru if i % 2 else config.house_en)
        examples.durations.append(durations)
        examples.mels.append(rng.normal(size=(durations.sum(), config.n_mels)).astype(np.float32))
    data = dataset(examples, config, shuffle_seed=0)
    model = FastSpeech(config)
    model.compile(optimizer=warmup_cosine_adamw(1e-3, 2, int(data.cardinality()), clipnorm=1.0))
    return lambda: model.fit(data, epochs=1, verbose=0, shuffle=False), int(data.cardinality())


def _stt_epoch(utterances: int):
    """A function fitting one epoch of the STT demo model on the real input pipeline
    (``training.stt.dataset.make_dataset``: augmentation, log-mel, bucketing), random audio."""
    from training.common.optim import warmup_cosine_adamw
    from training.stt.config import STTConfig
    from training.stt.dataset import make_dataset
    from training.stt.features import MODEL_RATE
    from training.stt.model import CTCTrainer, build_model

    config = STTConfig.demo()
    rng = np.random.default_rng(0)
    seconds = rng.uniform(2.0, 8.0, utterances)
    waves = [rng.normal(0, 0.1, int(s * MODEL_RATE)).astype(np.float32) for s in seconds]
    labels = [rng.integers(1, 30, int(s * 8)).tolist() for s in seconds]
    data = make_dataset(waves, labels, config, training=True, seed=0)
    trainer = CTCTrainer(build_model(config), config.time_stride)
    trainer.compile(optimizer=warmup_cosine_adamw(1e-3, 2, 1))
    batches = int(sum(seconds) // config.max_batch_seconds) + 1
    return lambda: trainer.fit(data, epochs=1, verbose=0, shuffle=False), batches


def seconds_per_batch(fit_epoch: Callable[[], object], batches: int) -> float:
    """Seconds per batch of ``fit_epoch``'s second run (the first traces the graphs)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # STT's dataset has no known length (Keras warns)
        fit_epoch()
        start = time.perf_counter()
        fit_epoch()
    return (time.perf_counter() - start) / batches


def child(family: str, utterances: int) -> float:
    """Seconds per training batch of ``family`` in this process."""
    return seconds_per_batch(*(tts_epoch if family == "tts" else _stt_epoch)(utterances))


def _measure(family: str, utterances: int, jemalloc: bool) -> float:
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    env |= {"VOICEOPS_NO_JEMALLOC": "0" if jemalloc else "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [str(PROJECT_DIR / "scripts" / "with_jemalloc.sh"), sys.executable]
    command += ["-m", "bench.malloc_training", "--child", family, str(utterances)]
    out = subprocess.run(command, env=env, cwd=PROJECT_DIR, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{family} child failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds_per_step"]


def run(quick: bool = False) -> dict:
    utterances = QUICK_UTTERANCES if quick else UTTERANCES
    rounds = QUICK_ROUNDS if quick else ROUNDS
    rows, figures = [], []
    for family in FAMILIES:
        glibc, jemalloc = [], []
        for _ in range(rounds):
            glibc.append(_measure(family, utterances, jemalloc=False))
            jemalloc.append(_measure(family, utterances, jemalloc=True))
        speedup = ratio(median(glibc), median(jemalloc))
        rows.append([family, ms(median(glibc)), ms(median(jemalloc)), speedup])
        figures.append(Figure(NAME, f"{family} train step speed-up (jemalloc)", speedup, "x"))
    print(format_table(["family", "glibc ms/batch", "jemalloc ms/batch", "speed-up"], rows))
    data = {"rows": rows, "figures": figures, "utterances": utterances, "rounds": rounds}
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
