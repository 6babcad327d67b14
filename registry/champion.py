"""Gate rule "champion": is the new version worse than the champion, on the same test rows?

Both versions are run on the test rows of the new version's data (the champion re-scored,
its recorded figures are of other rows) and compared metric by metric and language by
language with a paired bootstrap (``registry.compare``). The rule refuses a version that is
*significantly worse* on any gated metric; "better" or "no difference" pass. The confidence
is Bonferroni-corrected over the comparisons made, so a true tie is refused with at most the
policy's error rate in all (e.g. 5 % over 3 metrics x 3 languages, not 9 x 2.5 %).

An imported STT version (``registry.external``) may speak fewer languages: both versions are
then compared on the test rows of the languages both speak, and the imported one is run by
``registry.external_eval`` (its engine is not a TensorFlow SavedModel).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from registry.external import languages_of, read_manifest
from registry.external_eval import stt_example_stats
from registry.policy import Policy
from training.families import Family

LANGUAGES = ("all", "ru", "en")


def _example_stats(family: Family, model_dir: Path, test: list, options: dict) -> dict:
    """Per-example stats of one version: an imported STT engine through its own loader."""
    if family.name == "stt" and read_manifest(model_dir) is not None:
        return stt_example_stats(model_dir, test)
    return family.module("evaluate").example_stats(model_dir, test, **options)


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

    test = family.scored_splits(rows).get(policy.split, [])
    if family.name == "stt":
        spoken = set(languages_of(new_dir)) & set(languages_of(champion_dir))
        test = [row for row in test if row.get("language") in spoken]
    models = {"stt_model": Path(stt_model)} if stt_model and "stt" in family.uses_models else {}
    options = family.comparison_inputs(rows, **models)
    new = _example_stats(family, new_dir, test, options)
    champion = _example_stats(family, champion_dir, test, options)
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
