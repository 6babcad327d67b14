"""The TTS demo model's training step with a postnet against without one (the first row).

Seconds per batch of ``model.fit`` on the real input pipeline (random utterances of the demo
mart's lengths: a step's time does not depend on the values), the second epoch of each model
(the first traces the graphs), the configurations alternated over rounds in this process.
Reported: median seconds per batch and the ratio to the model without a postnet.

    python -m bench.tts_postnet [--quick]
"""

from __future__ import annotations

from collections.abc import Sequence

from bench._common import Figure, bench_main, format_table, median, ms, ratio, write_results
from bench.malloc_training import seconds_per_batch, tts_epoch

NAME = "tts_postnet"
#: name -> ``TTSConfig.demo`` overrides
POSTNETS = {
    "none": {"postnet_layers": 0},
    "3 layers x 64": {"postnet_layers": 3, "postnet_dim": 64},
    "5 layers x 96 (demo preset)": {"postnet_layers": 5, "postnet_dim": 96},
}
UTTERANCES, QUICK_UTTERANCES = 240, 64
ROUNDS, QUICK_ROUNDS = 2, 1


def postnet_seconds_per_batch(overrides: dict, utterances: int) -> float:
    from training.tts.config import TTSConfig

    return seconds_per_batch(*tts_epoch(utterances, TTSConfig.demo(**overrides)))


def run(quick: bool = False) -> dict:
    utterances = QUICK_UTTERANCES if quick else UTTERANCES
    times: dict[str, list[float]] = {name: [] for name in POSTNETS}
    for _ in range(QUICK_ROUNDS if quick else ROUNDS):
        for name, overrides in POSTNETS.items():
            times[name].append(postnet_seconds_per_batch(overrides, utterances))
    base = median(next(iter(times.values())))
    rows = [[name, ms(median(t)), ratio(median(t), base)] for name, t in times.items()]
    figures = [
        Figure(NAME, f"TTS step time, postnet {name} / none", row[2], "x")
        for name, row in zip(POSTNETS, rows, strict=True)
        if POSTNETS[name]
    ]
    print(format_table(["postnet", "ms/batch", "x no postnet"], rows))
    data = {"rows": rows, "figures": figures, "utterances": utterances}
    write_results(NAME, data)
    return data


def main(argv: Sequence[str] | None = None) -> None:
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
