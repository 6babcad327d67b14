"""NLU embeddings with a tiny model trained here: what the novelty score and the near-duplicate
search report, and what indexing and one ``explain`` search cost.

Set-up: the tiny NLU (``NLUConfig.tiny(epochs=6)``) trained on ``synthetic_rows(8, seed=3)``
(281 rows; the tests' ``nlu_good``), its rows indexed in a scratch Qdrant local folder.

- **novelty** per language of three production sets against the held-out rows' radius:
  the baseline, new utterances of the same phrasebook (``synthetic_rows(12, seed=11)``);
  gibberish words in the language's alphabet; and a 50/50 mix. The ratio is against the
  baseline.
- **near-duplicates** of the test split in the train split at several cosine thresholds.
- **cost**: embedding + upserting the 281 rows; one query (embed + search, k=5).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from bench._common import (
    Figure,
    bench_main,
    format_table,
    ms,
    ratio,
    scratch_dir,
    timed,
    write_results,
)

NAME = "embedding_drift"
THRESHOLDS = (0.8, 0.9, 0.95, 0.99)


def gibberish(language: str, count: int, seed: int = 0) -> list[dict[str, str]]:
    rng = random.Random(seed)
    letters = "абвгдежзиклмнопрстуфхцчшщэюя" if language == "ru" else "abcdefghijklmnopqrstuvwxyz"

    def word() -> str:
        return "".join(rng.choice(letters) for _ in range(rng.randint(3, 9)))

    return [
        {"text": " ".join(word() for _ in range(rng.randint(2, 7))), "language": language}
        for _ in range(count)
    ]


def run(quick: bool = False) -> dict[str, Any]:
    from monitoring.vectors.embedding_drift import novelty
    from monitoring.vectors.index import VersionIndex
    from monitoring.vectors.neighbours import near_duplicates, nearest_training
    from monitoring.vectors.qdrant import QdrantStore
    from training.nlu.config import NLUConfig
    from training.nlu.synthetic import synthetic_rows
    from training.nlu.train import train

    rows = synthetic_rows(8, seed=3)
    fresh = synthetic_rows(6 if quick else 12, seed=11)
    with scratch_dir(NAME, 100_000_000) as root:
        model = train(rows, NLUConfig.tiny(epochs=6), root / "run").serving
        with QdrantStore.local(str(root / "vectors")) as store:
            index = VersionIndex(store, model, "1")
            index_s, _ = timed(lambda: index.add("training", rows))
            query_s, _ = timed(lambda: nearest_training(index, "Заблокируйте карту", "ru", 5))
            table = []
            for language in ("ru", "en"):
                noise = gibberish(language, 120)
                mixed = [r for r in fresh if r["language"] == language][:60] + noise[:60]
                base = novelty(index, fresh, language)
                for label, production in (("new phrasings", fresh), ("gibberish", noise)):
                    score = novelty(index, production, language)
                    table.append(
                        [
                            language,
                            label,
                            score.novel_share,
                            score.production_count,
                            ratio(score.novel_share, base.novel_share),
                        ]
                    )
                score = novelty(index, mixed, language)
                table.append(
                    [
                        language,
                        "50/50 mix",
                        score.novel_share,
                        score.production_count,
                        ratio(score.novel_share, base.novel_share),
                    ]
                )
            duplicates = [
                [threshold, *(len(v) for v in near_duplicates(index, threshold).values())]
                for threshold in THRESHOLDS
            ]
            held_out = [
                index.count("training", split="test", language=lang) for lang in ("ru", "en")
            ]
    print(
        format_table(["language", "production", "novel share", "utterances", "vs baseline"], table)
    )
    print(
        format_table(["cosine >=", f"ru (of {held_out[0]})", f"en (of {held_out[1]})"], duplicates)
    )
    figures = [
        Figure(NAME, "novelty, new phrasings (ru)", table[0][2], ""),
        Figure(NAME, "novelty, gibberish (ru)", table[1][2], ""),
        Figure(NAME, "novelty, new phrasings (en)", table[3][2], ""),
        Figure(NAME, "novelty, gibberish (en)", table[4][2], ""),
        Figure(NAME, f"index {len(rows)} rows (embed + upsert)", index_s, "s"),
        Figure(NAME, "one explain search (embed + k=5)", ms(query_s), "ms"),
    ]
    data = {"novelty": table, "duplicates": duplicates, "figures": figures}
    write_results(NAME, data)
    return data


def main(argv: Sequence[str] | None = None) -> None:
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
