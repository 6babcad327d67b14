"""The voice bot's NLU contract (intents and slots), shipped with the package.

``core/taxonomy.yaml`` is the project's copy of ``shared/taxonomy.yaml``; a test keeps
the two identical when the shared one is present.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

TAXONOMY_FILE = Path(__file__).with_name("taxonomy.yaml")


@dataclass(frozen=True)
class Taxonomy:
    languages: tuple[str, ...]
    intents: dict[str, tuple[str, ...]]  # intent -> its slot names
    slots: dict[str, dict]  # slot name -> spec (values / pattern / kind / pii)

    def slots_of(self, intent: str) -> tuple[str, ...]:
        return self.intents[intent]


@lru_cache(maxsize=1)
def load_taxonomy(path: Path = TAXONOMY_FILE) -> Taxonomy:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    intents = {name: tuple(spec.get("slots", [])) for name, spec in data["intents"].items()}
    return Taxonomy(tuple(data["languages"]), intents, dict(data["slots"]))
