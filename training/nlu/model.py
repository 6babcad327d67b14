"""The joint NLU model: word + character features -> encoder -> intent and slot-tag heads.

    words [b, T] ──► Embedding ─────────────────────┐
    chars [b, T, C] ► Embedding ► Conv2D(1xk) ► max ┴► concat ► encoder ► per-token features
    per-token features ► masked mean + max pool ► Dense ► softmax over intents   ("intent")
    per-token features ► Dense ► softmax over BIO tags, per token                 ("slots")

Russian words change their endings (Москва, в Москве): the character CNN sees the shared
stem where the word embedding sees an unknown word.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from training.nlu.config import NLUConfig


def _encoder(config: NLUConfig, x, mask):
    """Contextualize per-token features: residual dilated convolutions or a BiGRU."""
    if config.encoder == "bigru":
        gru = layers.GRU(config.encoder_units, return_sequences=True)
        return layers.Bidirectional(gru, name="bigru")(x, mask=mask)
    x = layers.Dense(config.encoder_units, name="project")(x)
    for i in range(config.conv_layers):
        y = layers.Conv1D(
            config.encoder_units,
            3,
            padding="same",
            dilation_rate=2**i,
            activation="relu",
            name=f"conv_{i}",
        )(x)
        x = layers.LayerNormalization(name=f"norm_{i}")(layers.Add()([x, y]))
    return x


def build_model(
    config: NLUConfig, word_vocab: int, char_vocab: int, n_intents: int, n_tags: int
) -> keras.Model:
    """Inputs ``words`` [b, T] and ``chars`` [b, T, C] (id 0 = padding)."""
    words = keras.Input((config.max_tokens,), dtype="int32", name="words")
    chars = keras.Input((config.max_tokens, config.max_chars), dtype="int32", name="chars")
    mask = ops.not_equal(words, 0)
    mask_f = ops.expand_dims(ops.cast(mask, "float32"), -1)  # [b, T, 1]

    w = layers.Embedding(word_vocab, config.word_dim, name="word_embedding")(words)
    c = layers.Embedding(char_vocab, config.char_dim, name="char_embedding")(chars)
    c = layers.Conv2D(
        config.char_filters,
        (1, config.char_kernel),
        padding="same",
        activation="relu",
        name="char_cnn",
    )(c)
    c = ops.max(c, axis=2)  # [b, T, filters]: one vector per token
    x = layers.Concatenate(name="token_features")([w, c])
    x = layers.Dropout(config.dropout)(x)
    x = _encoder(config, x, mask) * mask_f
    x = layers.Dropout(config.dropout)(x)

    count = ops.maximum(ops.sum(mask_f, axis=1), 1.0)
    mean = ops.sum(x, axis=1) / count
    peak = ops.max(x + (mask_f - 1.0) * 1e4, axis=1)
    pooled = layers.Concatenate(name="pooled")([mean, peak])
    hidden = layers.Dense(config.encoder_units, activation="relu", name="intent_hidden")(pooled)
    intent = layers.Dense(n_intents, activation="softmax", name="intent")(hidden)
    slots = layers.Dense(n_tags, activation="softmax", name="slots")(x)
    return keras.Model({"words": words, "chars": chars}, {"intent": intent, "slots": slots})


def compile_model(model: keras.Model, config: NLUConfig) -> keras.Model:
    """Adam; cross-entropy for both heads, padding positions of the slot head ignored."""
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss={
            "intent": keras.losses.SparseCategoricalCrossentropy(),
            "slots": keras.losses.SparseCategoricalCrossentropy(ignore_class=-1),
        },
        metrics={"intent": ["accuracy"]},
    )
    return model
