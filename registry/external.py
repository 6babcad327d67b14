"""External (pretrained) model artifacts: what they are, where they came from, how to load them.

    manifest = build_artifact("stt", "pocketsphinx-en-us", target_dir)
    model = load_artifact(target_dir)          # PocketSphinxSTT, or a TensorFlow SavedModel

An imported version's artifact is a directory of model files plus ``external.json``: the
family, the engine that runs the files (``pocketsphinx`` or ``saved_model``), the languages
it speaks, its source (``pypi:pocketsphinx==5.1.1 model en-us`` or ``local:<path>``), its
licence and the SHA-256 of the model files (every file but the manifest, by relative path
and content). That hash is the version's lineage in place of a lake commit; the gate's
lineage rule and every later load re-hash the stored files against it (:func:`problems`).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from registry.errors import RegistryError

MANIFEST = "external.json"
POCKETSPHINX, SAVED_MODEL_ENGINE = "pocketsphinx", "saved_model"
ALL_LANGUAGES = ("ru", "en")


@dataclass(frozen=True)
class PretrainedSource:
    """A pretrained model the registry knows how to fetch from an installed package."""

    family: str
    package: str
    version: str
    model: str
    #: SPDX id of the software's and of the model files' licences, with the files saying so
    licence: str
    licence_files: tuple[str, ...]
    languages: tuple[str, ...]

    @property
    def source(self) -> str:
        return f"pypi:{self.package}=={self.version} model {self.model}"


#: ``voiceops models import <family> --from <name>``. PocketSphinx: the software is
#: BSD-2-Clause (CMU, ``LICENSE`` in the wheel); the en-us acoustic model's ``README`` carries
#: the same two-clause BSD licence (Alpha Cephei Inc.); the CMU dictionary is BSD-style.
PRETRAINED = {
    "pocketsphinx-en-us": PretrainedSource(
        "stt",
        "pocketsphinx",
        "5.1.1",
        "en-us",
        "BSD-2-Clause",
        ("LICENSE", "en-us/README"),
        ("en",),
    )
}


@dataclass
class Manifest:
    """``external.json`` of an imported artifact."""

    family: str
    engine: str
    source: str
    licence: str
    languages: list[str]
    sha256: str
    files: int
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def files_sha256(root: Path) -> tuple[str, int]:
    """SHA-256 over every file under ``root`` but the manifest (relative path + content),
    and how many files that is."""
    digest, count = hashlib.sha256(), 0
    for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        if relative == MANIFEST:
            continue
        digest.update(relative.encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
        count += 1
    return digest.hexdigest(), count


def read_manifest(root: Path) -> Manifest | None:
    """The artifact's manifest, or None for an in-house (trained here) SavedModel."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        return None
    try:
        return Manifest(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as error:
        raise RegistryError(f"{path}: not a valid external model manifest: {error}") from None


def problems(root: Path) -> list[str]:
    """Why the files under ``root`` are not the ones its manifest recorded (empty: they are)."""
    manifest = read_manifest(root)
    if manifest is None:
        return [f"{root}: no {MANIFEST}"]
    found, count = files_sha256(root)
    if found != manifest.sha256:
        return [
            f"{root}: model files hash to {found[:12]} ({count} files), the manifest recorded "
            f"{manifest.sha256[:12]} ({manifest.files} files)"
        ]
    return []


def _write_manifest(root: Path, manifest: Manifest) -> Manifest:
    (root / MANIFEST).write_text(json.dumps(manifest.to_dict(), indent=2), encoding="utf-8")
    return manifest


def _pretrained_files(spec: PretrainedSource, target: Path) -> None:
    """Copy the installed package's model and licence files into ``target``."""
    try:
        installed = importlib.metadata.version(spec.package)
    except importlib.metadata.PackageNotFoundError:
        raise RegistryError(f"{spec.package} is not installed (pip install {spec.package}=="
                            f"{spec.version})") from None  # fmt: skip
    if installed != spec.version:
        raise RegistryError(f"{spec.package} {installed} is installed, the source is {spec.source}")
    from pocketsphinx import get_model_path

    model = Path(get_model_path()) / spec.model
    shutil.copytree(model / spec.model, target / spec.model)
    for name in ("en-us.lm.bin", "cmudict-en-us.dict"):
        shutil.copy2(model / name, target / name)
    dist = importlib.metadata.distribution(spec.package)
    licence = next(f for f in dist.files or [] if f.name == "LICENSE")
    shutil.copy2(Path(str(dist.locate_file(licence))), target / "LICENSE")


def build_artifact(
    family: str, source: str, target: Path, *, licence: str = "", languages: tuple = ()
) -> Manifest:
    """Write the artifact of ``source`` (a name of :data:`PRETRAINED` or a local SavedModel
    directory) into ``target`` (created) and its manifest."""
    from registry.saved_model_check import signature_problems

    target = Path(target)
    if source in PRETRAINED:
        spec = PRETRAINED[source]
        if spec.family != family:
            raise RegistryError(f"{source} is a {spec.family} model, not {family}")
        target.mkdir(parents=True)
        _pretrained_files(spec, target)
        engine, origin, licence = POCKETSPHINX, spec.source, licence or spec.licence
        languages = languages or spec.languages
        details = {"licence_files": list(spec.licence_files)}
    else:
        path = Path(source)
        if not (path / "saved_model.pb").is_file():
            known = ", ".join(sorted(PRETRAINED))
            raise RegistryError(
                f"--from {source}: neither a known pretrained model ({known}) nor a SavedModel "
                "directory (no saved_model.pb)"
            )
        if found := signature_problems(family, path):
            raise RegistryError(f"--from {source}: " + "; ".join(found))
        shutil.copytree(path, target)
        (target / MANIFEST).unlink(missing_ok=True)
        engine, origin = SAVED_MODEL_ENGINE, f"local:{path.resolve()}"
        licence = licence or "unknown (not declared at import)"
        languages = languages or ALL_LANGUAGES
        details = {}
    digest, count = files_sha256(target)
    manifest = Manifest(family, engine, origin, licence, list(languages), digest, count, details)
    return _write_manifest(target, manifest)


def load_artifact(path: Path) -> Any:
    """The model in ``path``: an imported engine per its manifest, else the SavedModel."""
    manifest = read_manifest(Path(path))
    if manifest is not None and manifest.engine == POCKETSPHINX:
        from registry.pocketsphinx_stt import PocketSphinxSTT

        return PocketSphinxSTT(Path(path))
    import tensorflow as tf

    return tf.saved_model.load(str(path))


def languages_of(path: Path) -> tuple[str, ...]:
    """The languages the artifact's model speaks (an in-house SavedModel: all)."""
    manifest = read_manifest(Path(path))
    return tuple(manifest.languages) if manifest is not None else ALL_LANGUAGES
