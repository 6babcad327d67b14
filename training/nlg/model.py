"""A conditioned GRU decoder: (language, intent, slot set) -> delexicalized template tokens."""

from __future__ import annotations

import keras
from keras import layers, ops

from training.nlg.config import NLGConfig


@keras.saving.register_keras_serializable(package="voiceops_nlg")
class TemplateDecoder(keras.Model):
    """Embeds the condition, starts a GRU from it and feeds it at every step too.

    ``call`` is teacher-forced (training); ``step`` advances one token (greedy decoding).
    """

    def __init__(
        self,
        vocab_size: int,
        n_languages: int,
        n_intents: int,
        embed_dim: int = 64,
        units: int = 128,
        dropout: float = 0.1,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.config_args = {
            "vocab_size": vocab_size,
            "n_languages": n_languages,
            "n_intents": n_intents,
            "embed_dim": embed_dim,
            "units": units,
            "dropout": dropout,
        }
        self.language_embedding = layers.Embedding(n_languages + 1, 8, name="language_emb")
        self.intent_embedding = layers.Embedding(n_intents + 1, 32, name="intent_emb")
        self.condition = layers.Dense(units, activation="tanh", name="condition")
        self.token_embedding = layers.Embedding(vocab_size, embed_dim, name="token_emb")
        self.dropout = layers.Dropout(dropout)
        self.gru = layers.GRU(units, return_sequences=True, return_state=True, name="gru")
        self.logits = layers.Dense(vocab_size, name="logits")

    def encode_condition(self, language, intent, slots):
        """The condition vector [batch, units] (also the decoder's initial state)."""
        parts = [self.language_embedding(language), self.intent_embedding(intent), slots]
        return self.condition(ops.concatenate(parts, axis=-1))

    def call(self, inputs, training: bool = False):
        cond = self.encode_condition(inputs["language"], inputs["intent"], inputs["slots"])
        x = self.dropout(self.token_embedding(inputs["decoder_in"]), training=training)
        x = ops.concatenate([x, ops.zeros_like(x[..., :1]) + cond[:, None, :]], axis=-1)
        sequence, _ = self.gru(x, initial_state=cond, training=training)
        return self.logits(sequence)

    def step(self, token, state, cond):
        """One greedy step: token ids [batch], state [batch, units] -> (logits, new state)."""
        x = ops.concatenate([self.token_embedding(token), cond], axis=-1)
        h, new_state = self.gru.cell(x, state)
        return self.logits(h), new_state

    def get_config(self) -> dict:
        return super().get_config() | self.config_args


def build_model(config: NLGConfig, vocab_size: int, n_languages: int, n_intents: int):
    """A compiled :class:`TemplateDecoder` (loss ignores padding)."""
    model = TemplateDecoder(
        vocab_size, n_languages, n_intents, config.embed_dim, config.units, config.dropout
    )
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="token_accuracy")],
    )
    return model
