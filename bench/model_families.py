"""Model families: training throughput, single-request latency, and the chained voice-bot turn.

For each family (``bench._models``) a model of the demo architecture is trained briefly on
generated rows -- throughput in training examples per second -- then exported and reloaded.
Latency is the median of single requests, served (the reloaded SavedModel on the raw
request, with its in-graph preprocessing) against raw (the in-process Keras model on
ready tensors), measured back to back in this run: the ratio is the cost of serving what
the model itself does not. The chained turn runs STT -> NLU -> NLG -> TTS on a 3-second
utterance, each output feeding the next, against the sum of the four raw calls.

    python -m bench.model_families [--quick]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench._common import Figure, bench_main, format_table, ms, ratio, scratch_dir, write_results
from bench._models import BUILDERS, Served

NAME = "model_families"
WARMUP = 3
REPEATS, QUICK_REPEATS = 30, 8
EPOCHS, QUICK_EPOCHS = 2, 1


def median_seconds(fn: Callable[[], Any], repeats: int) -> float:
    """Median wall time of ``fn()`` after a few warm-up calls (first calls trace graphs)."""
    for _ in range(WARMUP):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def language_of(text: str) -> str:
    """The turn's language from the recognized text: Cyrillic letters -> ru."""
    return "ru" if any("а" <= ch.lower() <= "я" or ch in "ёЁ" for ch in text) else "en"  # noqa: RUF001


def chained_turn(models: dict[str, Served]) -> Callable[[], dict[str, Any]]:
    """One turn through the served models: audio -> text -> intent/slots -> answer -> audio."""

    def turn() -> dict[str, Any]:
        text = models["stt"].served(models["stt"].request)
        understood = models["nlu"].served(text or models["nlu"].request)
        language = language_of(text) if text else "ru"
        answer = models["nlg"].served(
            {"language": language, "intent": understood["intent"], "slots": understood["slots"]}
        )
        out: dict[str, Any] = {"text": text, "intent": understood["intent"], "answer": answer}
        if "tts" in models:
            out["audio"] = models["tts"].served({"text": answer, "language": language})
        return out

    return turn


def run(quick: bool = False) -> dict[str, Any]:
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    repeats = QUICK_REPEATS if quick else REPEATS
    epochs = QUICK_EPOCHS if quick else EPOCHS
    size = "tiny" if quick else "demo"
    rows, figures, models = [], [], {}
    with scratch_dir(NAME, 200 * 1_000_000) as work:
        for family, build in BUILDERS.items():
            print(f"{family}: training {epochs} epoch(s) at the {size} architecture", flush=True)
            model = build(Path(work), epochs, size, quick)
            models[family] = model
            throughput = model.train_examples * model.epochs / max(model.train_seconds, 1e-9)
            raw = median_seconds(model.raw, repeats)
            served = median_seconds(lambda m=model: m.served(m.request), repeats)
            rows.append([family, model.params, throughput, ms(raw), ms(served), ratio(served, raw)])
            figures += [
                Figure(NAME, f"{family} training throughput", throughput, "examples/s"),
                Figure(NAME, f"{family} served / raw latency", ratio(served, raw), "x"),
                Figure(NAME, f"{family} served latency", ms(served), "ms"),
            ]
        turn = chained_turn(models)
        sample = turn()
        raw_sum = sum(median_seconds(m.raw, repeats) for m in models.values())
        chained = median_seconds(turn, repeats)
    families = "+".join(models)
    rows.append([f"turn ({families})", "", "", ms(raw_sum), ms(chained), ratio(chained, raw_sum)])
    figures += [
        Figure(NAME, "chained turn latency (3 s utterance)", ms(chained), "ms"),
        Figure(NAME, "chained turn served / sum of raw", ratio(chained, raw_sum), "x"),
    ]
    headers = ["model", "params", "train ex/s", "raw ms", "served ms", "served/raw"]
    print(format_table(headers, rows))
    print(f"sample turn: {sample.get('text')!r} -> {sample.get('intent')!r}")
    print(f"answer: {sample.get('answer')!r}")
    data = {"quick": quick, "epochs": epochs, "size": size, "rows": rows, "figures": figures}
    write_results(NAME, data)
    return data


def main(argv: Sequence[str] | None = None) -> None:
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
