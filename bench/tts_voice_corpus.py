"""TTS on the published mart with and without the voice corpus, and which house voice reads best.

Trains the demo preset once on the ``tts_examples`` rows of the chosen sources (``--sources``:
``calls``, ``voice_corpus`` or both, the default), then scores the one model's intelligibility
with each house voice asked for (``--house-en``, ``--house-ru``; the house voice is only the
speaker id the model is conditioned on at synthesis, so one training serves all of them).
Scored twice per voice with the STT model: on the test rows of calls only (the test set of a
mart without the corpus: the same texts, voices and recordings) and on every test row.

    VOICEOPS_HOME=<home> scripts/with_jemalloc.sh .venv/bin/python -m bench.tts_voice_corpus \
        --stt-model <home>/models/stt/<fp>/saved_model \
        --house-en espeak:en-us+m3:s160:p50 \
        --house-en festival:cmu_us_slt_arctic_hts:t1.00:p+0:g+0 [--sources calls] [--set F=V]

Results go to ``bench/results/tts_voice_corpus[_<sources>].json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench._common import write_results


def _counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Rows per split, source and language (``train/voice_corpus/en``)."""
    found = Counter(
        f"{row['split']}/{row.get('source', 'calls')}/{row['language']}" for row in rows
    )
    return dict(sorted(found.items()))


def _rounded(scores: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {lang: {k: round(v, 4) for k, v in values.items()} for lang, values in scores.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stt-model", type=Path, required=True)
    parser.add_argument("--sources", default="calls,voice_corpus")
    parser.add_argument("--house-en", action="append", default=[])
    parser.add_argument("--house-ru", action="append", default=[])
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    args = parser.parse_args(argv)

    from core.settings import get_settings
    from training.tts.config import TTSConfig
    from training.tts.data import load_rows
    from training.tts.evaluate import intelligibility, load_stt
    from training.tts.export import TTSServing
    from training.tts.train import train

    sources = set(args.sources.split(","))
    corpus = [f"voice_corpus={'voice_corpus' in sources}"]
    config = TTSConfig.preset("demo", [*corpus, *args.set])
    rows = [row for row in load_rows(get_settings()) if row.get("source", "calls") in sources]
    with tempfile.TemporaryDirectory(prefix="tts-voice-corpus-") as run_dir:
        result = train(rows, config, Path(run_dir))
    stt = load_stt(args.stt_model)
    test = [row for row in rows if row["split"] == "test"]
    call_test = [row for row in test if row.get("source", "calls") == "calls"]
    houses = [("ru", voice) for voice in args.house_ru] + [("en", v) for v in args.house_en]
    scored = []
    for language, voice in houses or [("en", config.house_en)]:
        house = dataclasses.replace(config, **{f"house_{language}": voice})
        serving = TTSServing(result.model, house)
        scored.append(
            {
                "house": {"ru": house.house_ru, "en": house.house_en},
                "calls_test": _rounded(intelligibility(serving, stt, call_test)),
                "all_test": _rounded(intelligibility(serving, stt, test)),
            }
        )
    report = {
        "sources": sorted(sources),
        "rows": _counts(rows),
        "aligned": result.examples,
        "skipped": result.skipped,
        "train_seconds": round(result.seconds, 1),
        "epochs": result.epochs_run,
        "scores": scored,
    }
    suffix = "" if sources == {"calls", "voice_corpus"} else "_" + "_".join(sorted(sources))
    path = write_results(f"tts_voice_corpus{suffix}", report)
    print(json.dumps(report, indent=2))
    print(f"results: {path}")


if __name__ == "__main__":
    main()
