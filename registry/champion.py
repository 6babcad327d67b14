"""Gate rule "champion": is the new version worse than the champion, on the same test rows?

Both versions are run on the test rows of the new version's data (the champion re-scored,
its recorded figures are of other rows) and compared metric by metric and language by
language with a paired bootstrap (``registry.compare``). The rule refuses a version that is
*significantly worse* on any gated metric; "better" or "no difference" pass. The confidence
is Bonferroni-corrected over the comparisons made, so a true tie is refused with at most the
policy's error rate in all (e.g. 5 % over 3 metrics x 3 languages, not 9 x 2.5 %).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from registry.lineage import split_rows
from registry.policy import Policy
from training.families import Family

LANGUAGES = ("all", "ru", "en")


def stats_options(family: str, rows: list[dict[str, Any]], stt_model: Path | None) -> dict:
    """What a family's ``example_stats`` needs besides the test rows to score as training did:
    NLU the training rows (for unseen phrasings), NLG the reference pool, TTS the STT model."""
    if family == "nlu":
        return {"train_rows": split_rows(rows, "train")}
    if family == "nlg":
        return {"pool_rows": split_rows(rows, "train")}
    if family == "tts" and stt_model is not None:
        return {"stt_model": Path(stt_model)}
    return {}


def compare_with_champion(
    family: Family,
    new_dir: Path,
    champion_dir: Path,
    rows: list[dict[str, Any]],
    policy: Policy,
    *,
    stt_model: Path | None = None,
) -> dict[str, Any]:
    """The bootstrap report of every gated metric (and language) the two versions share."""
    from registry.compare import compare_models

    evaluate = family.module("evaluate")
    test = split_rows(rows, policy.split)
    options = stats_options(family.name, rows, stt_model)
    new = evaluate.example_stats(new_dir, test, **options)
    champion = evaluate.example_stats(champion_dir, test, **options)
    metrics = [m for m in policy.family(family.name).metrics if m in new and m in champion]
    comparisons = max(1, len(metrics) * len(LANGUAGES))
    confidence = 1 - (1 - policy.comparison_confidence) / comparisons
    report = compare_models(
        new,
        champion,
        metrics=metrics,
        languages=LANGUAGES,
        resamples=policy.comparison_resamples,
        confidence=confidence,
    )
    return report | {"family_confidence": policy.comparison_confidence, "compared": metrics}


def beats(report: dict[str, Any]) -> bool:
    """Better on at least one gated metric and worse on none."""
    return bool(report["better"]) and not report["worse"]
