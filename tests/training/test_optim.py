"""The shared optimizer: warm-up + cosine schedule and the step budget."""

from __future__ import annotations

import pytest

from training.common.optim import epochs_within, warmup_cosine


@pytest.mark.parametrize(
    ("max_steps", "steps_per_epoch", "max_epochs", "expected"),
    [
        (0, 100, 16, 16),  # no budget
        (1200, 149, 16, 8),  # the demo mart: 8 whole epochs fit 1,200 steps
        (1200, 100, 16, 12),
        (1200, 50, 16, 16),  # the budget is a ceiling, never more than the epochs asked
        (10, 149, 16, 1),  # at least one epoch
    ],
)
def test_epochs_within_a_step_budget(max_steps, steps_per_epoch, max_epochs, expected):
    epochs = epochs_within(max_steps, steps_per_epoch, max_epochs)
    assert epochs == expected
    if max_steps and expected > 1:
        assert epochs * steps_per_epoch <= max_steps


def test_schedule_warms_up_then_decays_to_two_percent():
    schedule = warmup_cosine(1e-3, epochs=4, steps_per_epoch=10, warmup_epochs=1)
    rates = [float(schedule(step)) for step in (0, 10, 25, 40)]
    assert rates[0] == pytest.approx(5e-5)
    assert rates[1] == pytest.approx(1e-3)
    assert rates[1] > rates[2] > rates[3]
    assert rates[3] == pytest.approx(2e-5, rel=1e-3)
