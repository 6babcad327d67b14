"""What the CLI shows: versions of each family and one version's record with its lineage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlflow.entities.model_registry import ModelVersion

from core.settings import Settings
from registry.tracking import client
from registry.versions import aliases, all_versions, resolve_ref, tag_json
from training.families import FAMILIES, family

#: The metric shown first for each family in the registry table.
HEADLINE = {"stt": "cer", "nlu": "intent_accuracy", "nlg": "bleu_multi_ref", "tts": "mel_l1"}


def _summary(version: ModelVersion, pointers: dict[str, str]) -> dict[str, Any]:
    scores = tag_json(version, "scores.test", {})
    fam = version.name.removeprefix("voicebot-")
    return {
        "family": fam,
        "model": version.name,
        "version": str(version.version),
        "aliases": sorted(a for a, v in pointers.items() if v == str(version.version)),
        "gate": version.tags.get("gate.verdict", "none"),
        "lake_commit": version.tags.get("lineage.lake_commit", ""),
        "created": version.creation_timestamp / 1000,
        "headline": HEADLINE.get(fam, ""),
        "score": scores.get("all", {}).get(HEADLINE.get(fam, ""), None),
        "run_id": version.run_id,
    }


def list_versions(settings: Settings, family_name: str | None = None) -> list[dict[str, Any]]:
    """Every registered version (of one family, or of all), oldest first per family."""
    mlflow = client(settings)
    names = [family(family_name).name] if family_name else list(FAMILIES)
    rows = []
    for name in names:
        model = FAMILIES[name].model_name
        pointers = aliases(mlflow, model)
        rows += [_summary(v, pointers) for v in all_versions(mlflow, model)]
    return rows


def show_version(settings: Settings, family_name: str, ref: str) -> dict[str, Any]:
    """One version: summary, tags, the gate's rules and the recorded lineage tree."""
    mlflow = client(settings)
    fam = family(family_name)
    version = resolve_ref(mlflow, fam.model_name, ref)
    lineage: dict[str, Any] = {}
    try:
        local = mlflow.download_artifacts(version.run_id, "lineage.json")
        lineage = json.loads(Path(local).read_text(encoding="utf-8"))
    except Exception as error:  # an artifact store that is gone: the tags still tell
        lineage = {"error": f"lineage.json unavailable: {error}"}
    return _summary(version, aliases(mlflow, fam.model_name)) | {
        "source": version.source,
        "tags": dict(sorted(version.tags.items())),
        "gate_rules": tag_json(version, "gate.rules", []),
        "scores": tag_json(version, "scores.test", {}),
        "lineage": lineage,
    }
