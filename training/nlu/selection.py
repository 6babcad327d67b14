"""Which epoch's weights a run keeps: a mix of the mart's validation and ``validation_human``.

The mart's ``validation`` rows are phrasebook phrasings (or mart texts) held out of training;
they say little about fragments, slang and typos. ``validation_human`` (hand-written like
``test_human``, no item shared with it) does. After every epoch :class:`BestEpoch` scores

    selection = (1 - human_weight) * val_intent_accuracy + human_weight * val_human_intent_accuracy

keeps the weights of the best epoch (ties go to the lower ``val_loss``), stops after
``patience`` epochs without a better one and restores the best weights at the end. It writes
``val_human_intent_accuracy`` (and ``_ru``, ``_en``) and ``val_selection`` into the epoch's logs
before the other callbacks read them: they reach the history, TensorBoard and the gauges.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from training.nlu.data import Labelled
from training.nlu.text import Encoder

HUMAN_METRIC = "val_human_intent_accuracy"
SELECTION_METRIC = "val_selection"


def intent_accuracy_by_language(predicted: np.ndarray, data: Labelled) -> dict[str, float]:
    """``{"": all, "_ru": ..., "_en": ...}``: share of ``data``'s intents ``predicted`` right."""
    right = np.asarray(predicted) == data.intents
    languages = np.array(data.languages)
    scores = {"": float(right.mean()) if len(right) else 0.0}
    for language in sorted(set(data.languages)):
        scores[f"_{language}"] = float(right[languages == language].mean())
    return scores


class BestEpoch(keras.callbacks.Callback):
    """Keeps the weights of the epoch with the best selection score (see the module doc);
    ``patience`` 0 never stops early (the best epoch is still restored)."""

    def __init__(self, human: Labelled, encoder: Encoder, human_weight: float, patience: int):
        super().__init__()
        if not 0.0 <= human_weight <= 1.0:
            raise ValueError(f"human_weight must be in [0, 1], got {human_weight}")
        self.human = human
        self.human_weight = human_weight
        self.patience = patience
        _, self._inputs = encoder(tf.constant(human.texts))  # encoded once: 250 short texts
        self.best: tuple[float, float] | None = None
        self.best_epoch = -1
        self.best_weights: list[Any] | None = None
        self.waited = 0

    def selection_score(self, logs: dict[str, Any]) -> float:
        """The mix of mart and human validation intent accuracy (human only without a mart
        validation split)."""
        human = float(logs[HUMAN_METRIC])
        mart = logs.get("val_intent_accuracy")
        if mart is None:
            return human
        return (1.0 - self.human_weight) * float(mart) + self.human_weight * human

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs if logs is not None else {}
        probabilities = self.model(self._inputs, training=False)["intent"]
        predicted = np.argmax(keras.ops.convert_to_numpy(probabilities), axis=-1)
        for suffix, value in intent_accuracy_by_language(predicted, self.human).items():
            logs[f"{HUMAN_METRIC}{suffix}"] = value
        logs[SELECTION_METRIC] = self.selection_score(logs)
        candidate = (logs[SELECTION_METRIC], -float(logs.get("val_loss", 0.0)))
        if self.best is None or candidate > self.best:
            self.best, self.best_epoch, self.waited = candidate, epoch, 0
            self.best_weights = self.model.get_weights()
            return
        self.waited += 1
        if self.patience and self.waited >= self.patience:
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)
