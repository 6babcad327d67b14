"""The NLU champion's embedding drift as drift scores (``feature="utterance_embedding"``,
``method="novelty"``), beside the PSI and KS scores of :mod:`monitoring.drift_report`."""

from __future__ import annotations

from typing import Any

from core.errors import VoiceOpsError
from core.settings import Settings
from monitoring.drift import DriftScore
from monitoring.vectors.embedding_drift import novelty
from monitoring.vectors.production import new_utterances

FEATURE = "utterance_embedding"
LANGUAGES = ("ru", "en")


def embedding_drift(
    settings: Settings, version: str, lake_commit: str, *, min_values: int
) -> tuple[list[DriftScore], dict[str, Any]]:
    """The champion's novelty scores per language and what they were computed from (or why
    not: ``note``)."""
    from monitoring.vectors.qdrant import open_store
    from monitoring.vectors.versions import version_index

    published, rows = new_utterances(settings, lake_commit)
    summary: dict[str, Any] = {"published_commit": published, "new_utterances": len(rows)}
    if not rows:
        return [], summary | {"note": "no utterances published since the champion's commit"}
    try:
        with open_store(settings) as store:
            index, _ = version_index(settings, store, version)
            index.add("production", rows, lake_commit=published or "")
            found = [
                novelty(index, rows, language, min_values=min_values) for language in LANGUAGES
            ]
    except (VoiceOpsError, LookupError, OSError) as error:
        # no embed function, no artifact or training rows, the local index open elsewhere
        return [], summary | {"note": f"not computed: {error}"}
    scores = [
        DriftScore(
            "nlu",
            FEATURE,
            score.language,
            "novelty",
            score.novel_share,
            score.held_out_count,
            score.production_count,
        )
        for score in found
        if score is not None
    ]
    novel = {score.language: list(score.novel_examples) for score in found if score is not None}
    return scores, summary | {"novel_examples": novel}
