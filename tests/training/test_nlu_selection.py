"""The NLU's best-epoch selection on the mart validation and ``validation_human``."""

from __future__ import annotations

import numpy as np
import pytest

from training.nlu.config import NLUConfig
from training.nlu.data import Labelled, label
from training.nlu.human import HUMAN_VALIDATION_SPLIT, human_rows
from training.nlu.selection import HUMAN_METRIC, SELECTION_METRIC, BestEpoch
from training.nlu.selection import intent_accuracy_by_language as by_language
from training.nlu.synthetic import synthetic_rows
from training.nlu.train import human_validation_metrics, train

EPOCHS = 3


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    rows = synthetic_rows(8, seed=3)
    return train(rows, NLUConfig.tiny(epochs=EPOCHS), tmp_path_factory.mktemp("nlu_selection"))


def test_intent_accuracy_is_counted_per_language():
    data = Labelled(
        texts=["a", "b", "c", "d"],
        languages=["ru", "en", "en", "en"],
        intents=np.array([0, 1, 2, 3]),
        tags=np.zeros((4, 1), np.int32),
        unlocated=None,  # type: ignore[arg-type]
    )
    assert by_language(np.array([0, 1, 0, 0]), data) == {"": 0.5, "_en": 1 / 3, "_ru": 1.0}


def test_every_epoch_logs_human_validation_and_the_selection_score(trained):
    history = trained.history
    for name in (HUMAN_METRIC, f"{HUMAN_METRIC}_ru", f"{HUMAN_METRIC}_en", SELECTION_METRIC):
        assert len(history[name]) == EPOCHS, name
    mix = 0.5 * np.array(history["val_intent_accuracy"]) + 0.5 * np.array(history[HUMAN_METRIC])
    np.testing.assert_allclose(history[SELECTION_METRIC], mix, rtol=1e-6)


def test_the_model_keeps_the_weights_of_the_best_epoch(trained):
    history = trained.history
    ranked = list(zip(history[SELECTION_METRIC], -np.array(history["val_loss"]), strict=True))
    assert trained.best_epoch == 1 + ranked.index(max(ranked))
    best = trained.best_epoch - 1
    scored = trained.metrics[HUMAN_VALIDATION_SPLIT]  # scored after training, on the export
    for language in ("ru", "en"):
        logged = history[f"{HUMAN_METRIC}_{language}"][best]
        assert scored[language]["intent_accuracy"] == pytest.approx(logged)
    flat = human_validation_metrics(trained.metrics)
    assert flat["human_validation_intent_accuracy_all"] == pytest.approx(
        history[HUMAN_METRIC][best]
    )
    assert set(flat) == {f"human_validation_intent_accuracy_{k}" for k in ("all", "ru", "en")}


def test_training_stops_after_patience_worse_epochs_and_restores_the_best(trained):
    model = trained.model
    kept = model.get_weights()
    human = label(human_rows(HUMAN_VALIDATION_SPLIT), trained.config.max_tokens)
    callback = BestEpoch(human, trained.encoder, human_weight=0.5, patience=2)
    callback.set_model(model)
    callback.on_epoch_end(0, {"val_intent_accuracy": 0.9, "val_loss": 1.0})
    model.set_weights([np.zeros_like(w) for w in kept])  # every intent alike: a worse model
    for epoch in (1, 2):
        logs = {"val_intent_accuracy": 0.2, "val_loss": 3.0}
        callback.on_epoch_end(epoch, logs)
        assert logs[SELECTION_METRIC] < 0.5 * 0.9
    assert model.stop_training and callback.best_epoch == 0
    model.stop_training = False
    callback.on_train_end()
    for restored, original in zip(model.get_weights(), kept, strict=True):
        np.testing.assert_array_equal(restored, original)


def test_an_equal_score_with_a_lower_validation_loss_is_better(trained):
    human = label(human_rows(HUMAN_VALIDATION_SPLIT), trained.config.max_tokens)
    callback = BestEpoch(human, trained.encoder, human_weight=0.5, patience=1)
    callback.set_model(trained.model)
    callback.on_epoch_end(0, {"val_intent_accuracy": 0.8, "val_loss": 1.0})
    callback.on_epoch_end(1, {"val_intent_accuracy": 0.8, "val_loss": 0.9})
    assert callback.best_epoch == 1 and not trained.model.stop_training


def test_a_human_weight_outside_0_1_is_refused(trained):
    human = label(human_rows(HUMAN_VALIDATION_SPLIT), trained.config.max_tokens)
    with pytest.raises(ValueError, match="human_weight"):
        BestEpoch(human, trained.encoder, human_weight=1.5, patience=1)
