"""NLG hyperparameters: ``tiny`` for tests, ``demo`` for a few minutes on 2 CPU cores."""

from __future__ import annotations

import dataclasses

from training.common.config import TrainConfig


@dataclasses.dataclass(frozen=True)
class NLGConfig(TrainConfig):
    """A GRU template decoder conditioned on language, intent and the set of slots."""

    embed_dim: int = 64
    units: int = 128
    dropout: float = 0.1
    max_len: int = 48  # tokens per template, incl. <eos>; longer ones are cut
    min_count: int = 1  # rarer template tokens become <unk>

    @classmethod
    def tiny(cls, **overrides) -> NLGConfig:
        """Seconds of training: for tests only."""
        fields = dict(
            size="tiny",
            epochs=12,
            batch_size=32,
            learning_rate=1e-2,
            embed_dim=16,
            units=32,
            dropout=0.0,
        )
        return cls(**(fields | overrides))

    @classmethod
    def demo(cls, **overrides) -> NLGConfig:
        """A few minutes on 2 CPU cores."""
        fields = dict(size="demo", epochs=30, batch_size=32, learning_rate=3e-3)
        return cls(**(fields | overrides))
