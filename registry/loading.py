"""``load_model``: a registered version's SavedModel, loaded once per process.

Resolving ``@champion`` asks the registry each time (a promotion or rollback is seen at
once); the SavedModel of a version is loaded only the first time (versions are immutable).
Before that first load the version must be servable (``registry.aliases.require_servable``:
its gate verdict trusted, its lineage re-verified on the lake, its artifact unchanged, and
passed or promoted); ``allow_ungated=True`` skips that for debugging a refused version.
Nothing is re-trained or re-preprocessed: the SavedModel carries its preprocessing. An
imported version's engine (``registry.external``) is loaded behind the family's interface.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow.entities.model_registry import ModelVersion

from core.settings import Settings, get_settings
from registry.aliases import require_servable
from registry.external import load_artifact
from registry.register import model_dir
from registry.tracking import client
from registry.versions import CHAMPION, resolve_ref
from training.families import family

_cache: dict[tuple[str, str, str], Any] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Resolved:
    """Which version a reference names, and where its artifact is."""

    family: str
    model: str
    version: str
    source: str
    verdict: str
    version_info: ModelVersion


def resolve(
    family_name: str, ref: str = f"@{CHAMPION}", settings: Settings | None = None
) -> Resolved:
    """``@alias`` or a version number of a family -> the registered version."""
    settings = settings or get_settings()
    fam = family(family_name)
    found = resolve_ref(client(settings), fam.model_name, ref)
    return Resolved(
        fam.name,
        fam.model_name,
        str(found.version),
        found.source,
        found.tags.get("gate.verdict", "none"),
        found,
    )


def load_model(
    family_name: str,
    alias: str = CHAMPION,
    *,
    version: str | None = None,
    settings: Settings | None = None,
    allow_ungated: bool = False,
) -> Any:
    """The SavedModel of ``version`` (or of what ``alias`` points to), cached per process."""
    settings = settings or get_settings()
    found = resolve(family_name, version or f"@{alias}", settings)
    key = (settings.tracking_uri, found.model, found.version)
    with _lock:
        if key not in _cache:
            if not allow_ungated:
                require_servable(settings, found.version_info)
            path: Path = model_dir(found.version_info, settings)
            _cache[key] = load_artifact(path)
        return _cache[key]


def clear_cache() -> None:
    """Forget loaded models (tests, benchmarks measuring a cold load)."""
    with _lock:
        _cache.clear()
