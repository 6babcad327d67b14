"""What rule 3 of the registry gate costs on the demo's models: comparing a version with the
champion on the same test rows (both run on them, then the paired bootstrap), per family,
against one plain evaluation of the champion (the work the old rule did) in the same run.

Uses the champions `make demo` left in ``$VOICEOPS_HOME`` (default ``./.voiceops``): each is
compared with itself, as a retrained version of the same quality would be. Skips a family
without a champion.

    python -m bench.champion_compare [--quick]     # --quick: NLU and NLG only
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial
from typing import Any

from bench._common import PROJECT_DIR, Figure, bench_main, format_table, ratio, timed

NAME = "champion_compare"


def _rows(family: Any, settings: Any, commit: str) -> list[dict[str, Any]]:
    return family.module("data").load_rows(settings, commit)


def run(quick: bool = False) -> dict[str, Any]:
    os.environ.setdefault("VOICEOPS_HOME", str(PROJECT_DIR / ".voiceops"))
    from core.settings import Settings
    from registry.champion import compare_with_champion
    from registry.policy import load_policy
    from registry.register import model_dir
    from registry.tracking import client
    from registry.versions import CHAMPION, by_alias
    from training.families import FAMILIES

    settings, policy = Settings(), load_policy()
    mlflow = client(settings)
    names = ("nlu", "nlg") if quick else ("nlu", "nlg", "stt", "tts")
    stt = by_alias(mlflow, FAMILIES["stt"].model_name, CHAMPION)
    stt_dir = model_dir(stt, settings) if stt is not None else None
    table, figures = [], []
    for name in names:
        family = FAMILIES[name]
        champion = by_alias(mlflow, family.model_name, CHAMPION)
        if champion is None:
            print(f"{name}: no champion in {settings.home} (run make demo first), skipped")
            continue
        path = model_dir(champion, settings)
        rows = _rows(family, settings, champion.tags["lineage.lake_commit"])
        test = [r for r in rows if r.get("split") == policy.split]
        options = {"stt_model": stt_dir} if name == "tts" else {}
        evaluate = partial(family.module("evaluate").evaluate_exported, path, test, **options)
        evaluate_s, _ = timed(evaluate)
        stt_model = stt_dir if name == "tts" else None
        compare = partial(
            compare_with_champion, family, path, path, rows, policy, stt_model=stt_model
        )
        compare_s, report = timed(compare)
        share = ratio(compare_s, evaluate_s)
        metrics = ", ".join(report["compared"])
        table.append([name, len(test), evaluate_s, compare_s, share, metrics])
        figures.append(Figure(NAME, f"{name}: compare / one evaluation", share, "x"))
    print(
        format_table(
            ["family", "test rows", "one evaluation s", "compare s", "compare / eval", "metrics"],
            table,
        )
    )
    return {"figures": figures, "rows": table}


def main(argv: Sequence[str] | None = None) -> None:
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
