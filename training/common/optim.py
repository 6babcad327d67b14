"""The optimizer every family's training shares: AdamW, linear warm-up, cosine decay."""

from __future__ import annotations

import keras


def warmup_cosine_adamw(
    learning_rate: float,
    epochs: int,
    steps_per_epoch: int,
    *,
    warmup_epochs: int = 1,
    weight_decay: float = 1e-4,
    clipnorm: float = 5.0,
) -> keras.optimizers.Optimizer:
    """AdamW with linear warm-up to ``learning_rate`` then cosine decay to 2 % of it."""
    schedule = warmup_cosine(learning_rate, epochs, steps_per_epoch, warmup_epochs)
    return keras.optimizers.AdamW(schedule, weight_decay=weight_decay, global_clipnorm=clipnorm)


def warmup_cosine(
    learning_rate: float, epochs: int, steps_per_epoch: int, warmup_epochs: int = 1
) -> keras.optimizers.schedules.LearningRateSchedule:
    """Linear warm-up from 5 % to ``learning_rate`` over ``warmup_epochs``, then cosine
    decay to 2 % of it at the end of the last epoch."""
    warmup = warmup_epochs * steps_per_epoch
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=learning_rate * (0.05 if warmup else 1.0),
        decay_steps=max(1, (epochs - warmup_epochs) * steps_per_epoch),
        alpha=0.02,
        warmup_target=learning_rate if warmup else None,
        warmup_steps=warmup,
    )


def epochs_within(max_steps: int, steps_per_epoch: int, max_epochs: int) -> int:
    """Whole epochs that fit a budget of ``max_steps`` updates (at least 1, at most
    ``max_epochs``; ``max_steps <= 0`` means no budget).

    A step budget holds training time to a bound on any data size, like a time budget, but
    stays deterministic: the same data and config always train the same number of steps.
    """
    if max_steps <= 0:
        return max_epochs
    return max(1, min(max_epochs, max_steps // max(1, steps_per_epoch)))
