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
    warmup = warmup_epochs * steps_per_epoch
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=learning_rate * (0.05 if warmup else 1.0),
        decay_steps=max(1, (epochs - warmup_epochs) * steps_per_epoch),
        alpha=0.02,
        warmup_target=learning_rate if warmup else None,
        warmup_steps=warmup,
    )
    return keras.optimizers.AdamW(schedule, weight_decay=weight_decay, global_clipnorm=clipnorm)
