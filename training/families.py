"""The four model families, one table read by training, the registry, orchestration and tests.

A family is a package ``training/<name>/`` with the same shape as the others
(``config, data, model, train, evaluate, export``); this table adds what the rest of the
platform needs to know about it: its mart, its registered model name, the training targets
its test-split metrics are checked against, and the models its runs use.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import InputError
from training.common.lineage import code_version
from training.common.run import RunSummary
from training.common.scores import is_test_split

if TYPE_CHECKING:  # keras is imported when a family trains, not with this table
    from training.common.callbacks import EpochHook

MODEL_PREFIX = "voicebot-"
TRAINING_DIR = Path(__file__).resolve().parent
AT_LEAST, AT_MOST = ">=", "<="


class UnknownFamilyError(InputError, KeyError):
    """A family name that is not in :data:`FAMILIES`."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class Family:
    """One family: its package under ``training/``, its mart, its name and its targets."""

    name: str
    mart: str
    description: str
    #: ``<metric>_<language>`` on the test split -> (">=" | "<=", goal); a missed target is
    #: a warning on the training asset (the registry gate has its own, per-language bounds)
    targets: dict[str, tuple[str, float]] = field(default_factory=dict)
    #: families whose latest model this one's run uses (TTS is scored by the STT model)
    uses_models: tuple[str, ...] = ()

    @property
    def model_name(self) -> str:
        """The registered model's name (``voicebot-<family>``)."""
        return f"{MODEL_PREFIX}{self.name}"

    @property
    def package(self) -> str:
        return f"training.{self.name}"

    @property
    def code_dir(self) -> Path:
        return TRAINING_DIR / self.name

    @property
    def code(self) -> str:
        """Content hash of the family's code (part of the model's data version)."""
        return code_version(self.code_dir)

    @property
    def config_class_name(self) -> str:
        return f"{self.name.upper()}Config"

    def module(self, part: str) -> Any:
        """``training.<family>.<part>`` (imported on first use: TensorFlow is slow to load)."""
        try:
            return importlib.import_module(f"{self.package}.{part}")
        except ModuleNotFoundError as error:
            raise UnknownFamilyError(
                f"family {self.name}: {self.package}.{part} is missing"
            ) from error

    def config(self, size: str) -> Any:
        """The family's preset config: ``tiny`` (seconds, tests), ``demo`` (minutes) or
        another of its config class's ``PRESETS`` (STT, TTS: ``large``)."""
        config_class = getattr(self.module("config"), self.config_class_name)
        return config_class.preset(size)

    def config_from_dict(self, values: dict[str, Any]) -> Any:
        """The family's typed config from its recorded ``to_dict()``."""
        config_class = getattr(self.module("config"), self.config_class_name)
        return config_class(**{k: v for k, v in values.items() if k != "family"})

    def load_rows(self, settings: Any, commit: str) -> list[dict[str, Any]]:
        """The family's mart rows of the published build at lake commit ``commit``."""
        return self.module("data").load_rows(settings, commit)

    def data_fingerprint(self, settings: Any, commit: str) -> str:
        """Identity of the family's training data: a hash of its published mart's rows at
        lake commit ``commit`` (what the retraining sensor compares between publishes)."""
        from training.common.data import read_mart
        from training.common.lineage import rows_hash

        return rows_hash(read_mart(settings, self.mart, commit=commit))

    def run(
        self,
        rows: list[dict],
        config: Any,
        run_dir: Path,
        *,
        on_epoch: EpochHook | None = None,
        **models: Path,
    ) -> RunSummary:
        """Train and export; ``models`` are ``<family>_model`` SavedModel paths it uses;
        ``on_epoch(epoch, logs)`` is called after each epoch (hyperparameter tuning)."""
        return self.module("train").run(rows, config, run_dir, on_epoch=on_epoch, **models)

    def scored_splits(self, rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """The rows of each split a training run scores, by split name: what the family's
        ``data.scored_splits`` makes of the mart rows (NLU adds test sets of its own), else
        the rows grouped by their ``split`` column."""
        scored = getattr(self.module("data"), "scored_splits", None)
        if scored is not None:
            return scored(rows)
        groups: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(str(row.get("split")), []).append(row)
        return groups

    def test_splits(self, rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """The test splits a training run scores, by name in order: those of
        :meth:`scored_splits` called ``test`` or ``test_<subset>`` that have rows (what the
        pipeline's evaluate step and an imported version are scored on)."""
        return {
            split: chosen
            for split, chosen in sorted(self.scored_splits(rows).items())
            if is_test_split(split) and chosen
        }

    def scoring_inputs(self, rows: list[dict[str, Any]], **models: Path) -> dict[str, Any]:
        """What :meth:`evaluate_exported` needs besides one split's rows to score as a
        training run scores: what the family's ``evaluate.scoring_inputs`` takes from all
        the mart ``rows`` (NLG: the ``train`` rows, its pool of references) and ``models``,
        the ``<family>_model`` SavedModel paths it uses (TTS: ``stt_model``)."""
        inputs = getattr(self.module("evaluate"), "scoring_inputs", None)
        return {**(inputs(rows) if inputs is not None else {}), **models}

    def comparison_inputs(self, rows: list[dict[str, Any]], **models: Path) -> dict[str, Any]:
        """What the family's ``evaluate.example_stats`` needs besides one split's rows to
        count per example as training scores: :meth:`scoring_inputs`, and what the family's
        ``evaluate.comparison_inputs`` adds (NLU: the ``train`` rows, for unseen phrasings)."""
        extra = getattr(self.module("evaluate"), "comparison_inputs", None)
        return self.scoring_inputs(rows, **models) | (extra(rows) if extra is not None else {})

    def evaluate_exported(self, model_dir: Path, rows: list[dict[str, Any]], **inputs: Any) -> dict:
        """Scores of an exported model on mart rows: ``{language: {metric: float}}``;
        ``inputs`` are :meth:`scoring_inputs` (without them: what the rows alone give)."""
        return self.module("evaluate").evaluate_exported(Path(model_dir), rows, **inputs)

    def missed_targets(self, metrics: dict[str, Any]) -> dict[str, Any]:
        """Targets ``metrics`` reached not (value), or has no value for (None)."""
        missed: dict[str, Any] = {}
        for name, (op, goal) in self.targets.items():
            value = metrics.get(name)
            if value is None:
                missed[name] = None
            elif value < goal if op == AT_LEAST else value > goal:
                missed[name] = value
        return missed


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family(
            "stt",
            "stt_examples",
            "Speech recognizer (waveform at any sample rate -> text) as a SavedModel.",
            {
                "cer_all": (AT_MOST, 0.12),
                "cer_ru": (AT_MOST, 0.12),
                "cer_en": (AT_MOST, 0.12),
                # held-out sentences of real human speech (festvox-ru) through the phone line
                "real_cer_ru": (AT_MOST, 0.45),
            },
        ),
        Family(
            "nlu",
            "nlu_examples",
            "Joint intent + slot model (text -> intent, confidence, slots) as a SavedModel.",
            {
                # test rows whose phrasing (slot values masked) no training row has
                "unseen_phrasing_intent_accuracy_all": (AT_LEAST, 0.92),
                "unseen_phrasing_intent_accuracy_ru": (AT_LEAST, 0.88),
                "unseen_phrasing_intent_accuracy_en": (AT_LEAST, 0.88),
                "slot_f1_all": (AT_LEAST, 0.90),
                # the hand-written test_human utterances (training/nlu/human/)
                "human_intent_accuracy_ru": (AT_LEAST, 0.85),
                "human_intent_accuracy_en": (AT_LEAST, 0.85),
            },
        ),
        Family(
            "nlg",
            "nlg_examples",
            "Response generator (language, intent, slots -> text) as a SavedModel.",
            {"bleu_multi_ref_all": (AT_LEAST, 0.90), "slot_value_accuracy_all": (AT_LEAST, 0.98)},
        ),
        Family(
            "tts",
            "tts_examples",
            "Speech synthesizer (text, language -> waveform; Griffin-Lim in the graph) as a "
            "SavedModel, scored for intelligibility by the latest STT model.",
            {
                "cer_ratio_all": (AT_MOST, 1.3),
                "cer_ratio_ru": (AT_MOST, 1.3),
                "cer_ratio_en": (AT_MOST, 1.3),
            },
            uses_models=("stt",),
        ),
    )
}


def family(name: str) -> Family:
    """The family called ``name``, or a clear error naming the known ones."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise UnknownFamilyError(
            f"unknown family {name!r} (known: {', '.join(FAMILIES)})"
        ) from None
