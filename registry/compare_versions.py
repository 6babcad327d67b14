"""Two registered versions of a family on the same test rows: the gate's paired comparison.

    compare_versions(settings, "stt", "3", "@champion")   # -> the bootstrap report

Both run on the published mart's test rows (an imported STT version and the in-house one on
the rows of the languages both speak: ``registry.champion``), the rule 3 of the gate on
demand; ``better`` / ``worse`` list ``metric[language]`` from NEW's side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.settings import Settings
from registry.champion import compare_with_champion
from registry.import_version import published_rows
from registry.policy import load_policy
from registry.register import model_dir
from registry.tracking import client
from registry.used_models import models_for_scoring
from registry.versions import resolve_ref
from training.families import family


def compare_versions(
    settings: Settings,
    family_name: str,
    new_ref: str,
    old_ref: str,
    rows: list[dict[str, Any]] | None = None,
    used_models: dict[str, Path] | None = None,
) -> dict[str, Any]:
    """The paired bootstrap report of ``new_ref`` against ``old_ref`` (versions or aliases);
    a TTS pair is scored with ``used_models["stt"]``, else the STT champion."""
    fam = family(family_name)
    models, scored_with = models_for_scoring(fam, settings, used_models)
    mlflow = client(settings)
    new, old = (resolve_ref(mlflow, fam.model_name, ref) for ref in (new_ref, old_ref))
    policy = load_policy(settings.gate_policy)
    if rows is None:
        rows = published_rows(fam, settings)[0]
    report = compare_with_champion(
        fam,
        model_dir(new, settings),
        model_dir(old, settings),
        rows,
        policy,
        stt_model=models.get("stt_model"),
    )
    return report | {"new": str(new.version), "old": str(old.version), "scored_with": scored_with}
