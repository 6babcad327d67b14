"""The registered version a training run starts from (``--init-from VERSION``).

    parent = resolve_parent(settings, "stt", "@champion")   # -> Parent(version, run_id, ...)

Only an in-house version (a TensorFlow SavedModel trained here) can be fine-tuned; an
imported engine (``registry.external``) cannot. The training config records the parent's
version and MLflow run id, so the child's lineage names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings
from registry.errors import RegistryError
from registry.external import read_manifest
from registry.register import model_dir
from registry.tracking import client
from registry.versions import resolve_ref
from training.families import family


@dataclass(frozen=True)
class Parent:
    """A version to start training from, and where its SavedModel is."""

    model: str
    version: str
    run_id: str
    saved_model: Path

    def to_dict(self) -> dict[str, str]:
        return {
            "model": self.model,
            "version": self.version,
            "run_id": self.run_id,
            "saved_model": str(self.saved_model),
        }


def resolve_parent(settings: Settings, family_name: str, ref: str) -> Parent:
    """``ref`` (a version number or @alias) of the family's model, as a training parent."""
    fam = family(family_name)
    found = resolve_ref(client(settings), fam.model_name, ref)
    path = model_dir(found, settings)
    if (manifest := read_manifest(path)) is not None:
        raise RegistryError(
            f"{fam.model_name} v{found.version} is an imported {manifest.engine} model "
            f"({manifest.source}): only a version trained here can be fine-tuned"
        )
    return Parent(fam.model_name, str(found.version), found.run_id, path)
