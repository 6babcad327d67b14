"""Hyperparameters of the NLU model, with a ``tiny`` (tests) and a ``demo`` preset."""

from __future__ import annotations

import dataclasses

from training.common.config import TrainConfig


@dataclasses.dataclass(frozen=True)
class NLUConfig(TrainConfig):
    """Words + characters -> encoder -> intent head and per-token slot-tag head."""

    max_tokens: int = 40  # tokens per text kept (longer texts are cut)
    max_chars: int = 16  # characters per token kept
    min_word_count: int = 2  # rarer training words map to the OOV id
    word_dim: int = 64
    char_dim: int = 24
    char_filters: int = 64
    char_kernel: int = 3
    ngram_buckets: int = 8000  # hashed character n-gram ids per token; 0 = no n-gram input
    ngram_widths: tuple[int, ...] = (3, 4)
    max_ngrams: int = 24  # n-grams per token kept (the first width's first)
    ngram_dim: int = 48
    ngram_bag: bool = True  # also feed the utterance's mean n-gram vector to the intent head
    encoder: str = "conv"  # "conv" (fast on 2 cores) | "bigru"
    encoder_units: int = 96
    conv_layers: int = 2
    dropout: float = 0.3
    word_dropout: float = 0.1  # share of known words replaced by OOV while training
    typed_rows: int = 30  # chat rows per intent and language (phrasebooks' typed phrasings)
    typo_share: float = 0.3  # share of training rows added again with misspelt words
    translit_share: float = 0.2  # share of Cyrillic training rows added again in Latin letters
    early_stopping_patience: int = 3  # epochs without a better selection score; 0 = all epochs
    human_validation_weight: float = 0.5  # share of validation_human in the selection score
    deterministic: bool = True  # tf.config.experimental.enable_op_determinism()

    @classmethod
    def tiny(cls, **overrides) -> NLUConfig:
        """Seconds of training: for tests only."""
        fields = dict(
            size="tiny",
            epochs=2,
            batch_size=16,
            max_tokens=24,
            max_chars=10,
            min_word_count=1,
            word_dim=16,
            char_dim=8,
            char_filters=16,
            ngram_buckets=256,
            max_ngrams=12,
            ngram_dim=8,
            encoder_units=16,
            conv_layers=1,
            early_stopping_patience=0,
            typed_rows=0,  # the rows given only: a pipeline test compares two 2-epoch versions
        )
        return cls(**(fields | overrides))

    @classmethod
    def demo(cls, **overrides) -> NLUConfig:
        """A few minutes on 2 CPU cores, a few thousand examples."""
        return cls(**({"size": "demo", "epochs": 20, "batch_size": 32} | overrides))
