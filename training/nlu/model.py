"""The joint NLU model: word + character features -> encoder -> intent and slot-tag heads.

    words [b, T] ──► Embedding ─────────────────────┐
    chars [b, T, C] ► Embedding ► Conv2D(1xk) ► max ┤
    ngrams [b, T, G] ► Embedding ► masked mean ─────┴► concat ► encoder ► per-token features
    per-token features ► masked mean + max pool ► Dense ► softmax over intents   ("intent")
    per-token features ► Dense ► softmax over BIO tags, per token                 ("slots")

Russian words change their endings (Москва, в Москве): the character CNN sees the shared
stem where the word embedding sees an unknown word. The ``ngrams`` input (hashed character
n-grams, only when ``config.ngram_buckets`` > 0) gives a misspelt or unseen word the
average of the subword vectors it shares with known words ("ballance": "<ba", "bal", "lan").
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


def _ngram_features(config: NLUConfig, ngrams):
    """[b, T, G] hashed n-gram ids (0 = none) -> [b, T, ngram_dim]: their mean vector."""
    present = ops.expand_dims(ops.cast(ops.not_equal(ngrams, 0), "float32"), -1)
    vectors = layers.Embedding(config.ngram_buckets + 1, config.ngram_dim, name="ngram_embedding")(
        ngrams
    )
    return ops.sum(vectors * present, axis=2) / ops.maximum(ops.sum(present, axis=2), 1.0)


def build_model(
    config: NLUConfig, word_vocab: int, char_vocab: int, n_intents: int, n_tags: int
) -> keras.Model:
    """Inputs ``words`` [b, T], ``chars`` [b, T, C] and (``ngram_buckets`` > 0) ``ngrams``
    [b, T, G] (id 0 = padding)."""
    words = keras.Input((config.max_tokens,), dtype="int32", name="words")
    chars = keras.Input((config.max_tokens, config.max_chars), dtype="int32", name="chars")
    inputs = {"words": words, "chars": chars}
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
    features, bag = [w, c], []
    if config.ngram_buckets:
        ngrams = keras.Input((config.max_tokens, config.max_ngrams), dtype="int32", name="ngrams")
        inputs["ngrams"] = ngrams
        subwords = _ngram_features(config, ngrams)
        features.append(subwords)
        if config.ngram_bag:  # fastText's classifier: the mean subword vector of the text
            bag.append(ops.sum(subwords * mask_f, axis=1) / ops.maximum(ops.sum(mask_f, 1), 1.0))
    x = layers.Concatenate(name="token_features")(features)
    x = layers.Dropout(config.dropout)(x)
    x = _encoder(config, x, mask) * mask_f
    x = layers.Dropout(config.dropout)(x)

    count = ops.maximum(ops.sum(mask_f, axis=1), 1.0)
    mean = ops.sum(x, axis=1) / count
    peak = ops.max(x + (mask_f - 1.0) * 1e4, axis=1)
    pooled = layers.Concatenate(name="pooled")([mean, peak])
    head_input = layers.Concatenate(name="intent_features")([pooled, *bag]) if bag else pooled
    hidden = layers.Dense(config.encoder_units, activation="relu", name="intent_hidden")(head_input)
    intent = layers.Dense(n_intents, activation="softmax", name="intent")(hidden)
    slots = layers.Dense(n_tags, activation="softmax", name="slots")(x)
    return keras.Model(inputs, {"intent": intent, "slots": slots})


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
