"""The models a registered version is scored with, outside a training run (TTS: an STT).

    models, provenance = models_for_scoring(fam, settings, {"stt": Path("/m/stt")})
    # -> ({"stt_model": Path("/m/stt")}, {"stt": "/m/stt"})

A training run records the STT model its TTS was scored with; an imported version or a
comparison of two versions has no run, so each model the family uses
(``Family.uses_models``) is the path given, else the champion of that model's family in the
registry (``stt@champion``). Neither is a clear error: scoring a TTS without an STT would
leave its intelligibility metrics missing, and the gate would refuse it for a reason that
is not the model's.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import InputError
from core.settings import Settings
from registry.register import model_dir
from registry.tracking import client
from registry.versions import CHAMPION, by_alias
from training.families import Family, family
from training.steps import refuse_unused_models, saved_model_in


def models_for_scoring(
    fam: Family, settings: Settings, given: dict[str, Path] | None = None
) -> tuple[dict[str, Path], dict[str, str]]:
    """``{"<name>_model": SavedModel dir}`` for each model ``fam`` is scored with, and where
    each came from (the path given, or ``<model>@champion vN``)."""
    given = given or {}
    refuse_unused_models(fam, given)
    models: dict[str, Path] = {}
    provenance: dict[str, str] = {}
    for name in fam.uses_models:
        if name in given:
            path = saved_model_in(Path(given[name]))
            if not (path / "saved_model.pb").is_file():
                raise InputError(f"--{name}-model {given[name]}: no SavedModel there")
            models[f"{name}_model"] = path
            provenance[name] = str(given[name])
            continue
        used = family(name)
        champion = by_alias(client(settings), used.model_name, CHAMPION)
        if champion is None:
            raise InputError(
                f"{fam.name} is scored with the {name} model: pass --{name}-model, or "
                f"register a {name} version that passes the gate (its @{CHAMPION} is used)"
            )
        models[f"{name}_model"] = model_dir(champion, settings)
        provenance[name] = f"{used.model_name}@{CHAMPION} v{champion.version}"
    return models, provenance
