"""A SavedModel that carries its own preprocessing and greedy decoding.

``serve(language, intent, slots)`` (string batches; ``slots`` as JSON text) -> delexicalized
templates (string batch). Slot values are put back in Python by :func:`predict`, with the
bot's formatting rules (:func:`training.nlg.delex.relexicalize`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import tensorflow as tf

from training.nlg.data import SPACE, Vocab, condition_vocab
from training.nlg.delex import relexicalize

META_FILE = "nlg_meta.json"


def _table(keys: tuple[str, ...]) -> tf.lookup.StaticHashTable:
    """String -> 1-based id (0 = unknown)."""
    init = tf.lookup.KeyValueTensorInitializer(
        tf.constant(list(keys)), tf.range(1, len(keys) + 1, dtype=tf.int64)
    )
    return tf.lookup.StaticHashTable(init, default_value=0)


class NLGServing(tf.Module):
    """Strings in, delexicalized templates out; usable before saving (evaluation) and after."""

    def __init__(self, model: Any, vocab: Vocab, max_len: int) -> None:
        super().__init__(name="nlg_serving")
        languages, intents, slot_names = condition_vocab()
        self.model = model
        self.languages = _table(languages)
        self.intents = _table(intents)
        self.slot_names = tuple(slot_names)
        self.vocab = tf.constant(list(vocab.tokens))
        self.max_len = max_len

    def _slot_presence(self, slots: tf.Tensor) -> tf.Tensor:
        """Multi-hot of the slot names present with a non-null value in the JSON text."""
        columns = [
            tf.strings.regex_full_match(slots, rf'(?s).*"{name}"\s*:\s*[^n\s].*')
            for name in self.slot_names
        ]
        return tf.cast(tf.stack(columns, axis=1), tf.float32)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)] * 3)
    def serve(self, language: tf.Tensor, intent: tf.Tensor, slots: tf.Tensor) -> tf.Tensor:
        lang_ids = tf.cast(self.languages.lookup(language), tf.int32)
        intent_ids = tf.cast(self.intents.lookup(intent), tf.int32)
        cond = self.model.encode_condition(lang_ids, intent_ids, self._slot_presence(slots))
        token = tf.fill(tf.shape(lang_ids), 2)  # <bos>
        state = cond
        out = tf.TensorArray(tf.int32, size=self.max_len)
        for i in tf.range(self.max_len):
            logits, state = self.model.step(token, state, cond)
            token = tf.cast(tf.argmax(logits, axis=-1), tf.int32)
            out = out.write(i, token)
        ids = tf.transpose(out.stack())  # [batch, max_len]
        ended = tf.cumsum(tf.cast(ids == 3, tf.int32), axis=1, exclusive=True) > 0
        keep = tf.logical_and(tf.logical_not(ended), ids >= 4)  # before <eos>, no specials
        tokens = tf.where(keep, tf.gather(self.vocab, ids), "")
        return tf.strings.regex_replace(tf.strings.reduce_join(tokens, axis=1), SPACE, " ")


def save(serving: NLGServing, path: Path, meta: dict[str, Any] | None = None) -> Path:
    """Write the SavedModel (and a small JSON of metadata beside its variables)."""
    path = Path(path)
    tf.saved_model.save(serving, str(path), signatures={"serving_default": serving.serve})
    (path / META_FILE).write_text(json.dumps(meta or {}, indent=2, default=str), encoding="utf-8")
    return path


def load(path: Path) -> Any:
    """The SavedModel (needs TensorFlow only, not this package's model code)."""
    return tf.saved_model.load(str(path))


def templates(serving: Any, requests: list[dict[str, Any]], batch_size: int = 256) -> list[str]:
    """Delexicalized templates for requests ``{language, intent, slots[, facts]}``."""
    out: list[str] = []
    for start in range(0, len(requests), batch_size):
        chunk = requests[start : start + batch_size]
        result = serving.serve(
            language=tf.constant([r["language"] for r in chunk]),
            intent=tf.constant([r["intent"] for r in chunk]),
            slots=tf.constant(
                [json.dumps(r.get("slots") or {}, ensure_ascii=False) for r in chunk]
            ),
        )
        out.extend(t.decode("utf-8") for t in result.numpy())
    return out


def predict(serving: Any, requests: list[dict[str, Any]]) -> list[str]:
    """Final responses: generated templates with the requests' slot values (and facts) put back."""
    return [
        relexicalize(t, r["language"], r.get("slots") or {}, r.get("facts"))
        for t, r in zip(templates(serving, requests), requests, strict=True)
    ]
