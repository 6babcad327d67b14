"""The imported PocketSphinx STT against an in-house STT SavedModel on the same rows.

    python -m bench.pretrained_stt --model runs/stt/saved_model --per-language 700

Rows: the ``test`` split of ``bench.espeak_rows`` (phrasebook utterances spoken by held-out
espeak-ng voices through the telephone channel; the in-house model never heard those
voices). Both models are scored per language by
``registry.external_eval`` (PocketSphinx on its language only; Russian rows reported as
skipped), and timed: decoding seconds per second of audio on the test rows (one process,
after one warm-up call).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from registry.external import build_artifact, languages_of, load_artifact
from registry.external_eval import stt_scores


def realtime_factor(model_dir: Path, rows: list[dict[str, Any]]) -> float:
    """Decoding seconds per audio second on ``rows`` in the model's languages."""
    from training.stt.data import prepare
    from training.stt.export import transcribe
    from training.stt.features import MODEL_RATE

    data = prepare([r for r in rows if r["language"] in languages_of(model_dir)])
    model = load_artifact(model_dir)
    transcribe(model, data.waveforms[:1], MODEL_RATE)  # warm-up (traces a SavedModel)
    started = time.perf_counter()
    transcribe(model, data.waveforms, MODEL_RATE, languages=list(data.languages))
    return (time.perf_counter() - started) / data.seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="in-house STT SavedModel")
    parser.add_argument("--per-language", type=int, default=700)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from bench.espeak_rows import espeak_rows

    rows = [r for r in espeak_rows(args.per_language, seed=args.seed) if r["split"] == "test"]
    report = {"test_rows": len(rows)}
    with tempfile.TemporaryDirectory() as work:
        sphinx = build_artifact("stt", "pocketsphinx-en-us", Path(work) / "pocketsphinx")
        report["pocketsphinx_sha256"] = sphinx.sha256
        for name, path in (("pocketsphinx-en-us", Path(work) / "pocketsphinx"),
                           ("in-house", args.model)):  # fmt: skip
            report[name] = {
                "test": stt_scores(path, rows),
                "seconds_per_audio_second": realtime_factor(path, rows),
            }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
