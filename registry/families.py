"""The four model families as the registry sees them: names, marts, code and metric directions."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.errors import RegistryError

MODEL_PREFIX = "voicebot-"


@dataclass(frozen=True)
class Family:
    """One family: its registered model name, mart, and training package."""

    name: str
    mart: str
    config_class: str  # attribute of ``training.<name>.config``

    @property
    def model_name(self) -> str:
        return f"{MODEL_PREFIX}{self.name}"

    @property
    def package(self) -> str:
        return f"training.{self.name}"

    @property
    def code_dir(self) -> Path:
        return Path(__file__).resolve().parents[1] / "training" / self.name

    def module(self, part: str) -> Any:
        """``training.<family>.<part>`` (imported on first use: TensorFlow is slow to load)."""
        try:
            return importlib.import_module(f"{self.package}.{part}")
        except ModuleNotFoundError as error:
            raise RegistryError(f"family {self.name}: {self.package}.{part} is missing") from error

    def evaluate_exported(self, model_dir: Path, rows: list[dict[str, Any]]) -> dict:
        """Scores of an exported model on mart rows: ``{language: {metric: float}}``."""
        return self.module("evaluate").evaluate_exported(Path(model_dir), rows)

    def config_from_dict(self, values: dict[str, Any]) -> Any:
        """The family's typed config from its recorded ``to_dict()``."""
        cls = getattr(self.module("config"), self.config_class)
        return cls(**{k: v for k, v in values.items() if k != "family"})


FAMILIES: dict[str, Family] = {
    "stt": Family("stt", "stt_examples", "STTConfig"),
    "nlu": Family("nlu", "nlu_examples", "NLUConfig"),
    "nlg": Family("nlg", "nlg_examples", "NLGConfig"),
    "tts": Family("tts", "tts_examples", "TTSConfig"),
}


def family(name: str) -> Family:
    """The family called ``name``, or a clear error naming the known ones."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise RegistryError(f"unknown family {name!r} (known: {', '.join(FAMILIES)})") from None
