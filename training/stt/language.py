"""The call's language as an STT input: output masking and the language-confusion measure.

A bank's IVR knows the caller's language (they chose it), so the recognizer need not guess
it: :func:`mask_logits` adds ``-1e9`` to the logits of the other language's letters, so a
Russian call can only be written in Cyrillic and an English one only in Latin letters
(space and apostrophe stay open to both). An empty language code leaves the logits as they
are (the caller's language unknown).

:func:`confused` says whether a text is written mostly in the other language's script: the
share of such utterances in an unmasked decoding (``language_confusion``) measures how
often the acoustic model on its own mistakes one language for the other.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from training.stt.text import ALPHABET

#: The letters each language is written in (the rest of ALPHABET is shared: space, apostrophe).
SCRIPTS: dict[str, str] = {
    "en": "abcdefghijklmnopqrstuvwxyz",
    "ru": "абвгдежзийклмнопрстуфхцчшщъыьэюя",
}
#: What a masked logit becomes: far below any real logit, finite so softmax stays defined.
MASKED = -1e9


def allowed(language: str) -> np.ndarray:
    """``[V + 1]`` booleans: the CTC outputs (blank first) a ``language`` call may emit."""
    if language not in SCRIPTS:
        raise ValueError(f"unknown language {language!r}; expected one of {sorted(SCRIPTS)}")
    others = "".join(letters for lang, letters in SCRIPTS.items() if lang != language)
    return np.array([True] + [ch not in others for ch in ALPHABET])


def _biases() -> tf.Tensor:
    """``[len(SCRIPTS) + 1, V + 1]``: one additive row per language, then a zero row."""
    rows = [np.where(allowed(lang), 0.0, MASKED) for lang in SCRIPTS]
    rows.append(np.zeros(len(ALPHABET) + 1))
    return tf.constant(np.stack(rows), tf.float32)


def mask_logits(logits: tf.Tensor, languages: tf.Tensor) -> tf.Tensor:
    """``[b, T, V + 1]`` logits with the other script's letters masked per ``languages`` [b]
    (``"ru"``, ``"en"``, or ``""`` for unknown: unmasked)."""
    codes = tf.constant(list(SCRIPTS))
    match = tf.equal(tf.expand_dims(languages, 1), tf.expand_dims(codes, 0))  # [b, L]
    index = tf.where(
        tf.reduce_any(match, axis=1),
        tf.argmax(tf.cast(match, tf.int32), axis=1, output_type=tf.int32),
        len(SCRIPTS),
    )
    return logits + tf.gather(_biases(), index)[:, tf.newaxis, :]


def wrong_script_letters(text: str, language: str) -> tuple[int, int]:
    """(letters of the other language's script, all letters) in ``text``."""
    letters = [ch for ch in text if ch.isalpha()]
    own = set(SCRIPTS.get(language, ""))
    foreign = set("".join(SCRIPTS.values())) - own
    return sum(ch in foreign for ch in letters), len(letters)


def confused(text: str, language: str) -> bool:
    """True when more than half of ``text``'s letters are in the other language's script."""
    wrong, total = wrong_script_letters(text, language)
    return total > 0 and wrong * 2 > total


def confusion_rate(texts: Sequence[str], languages: Sequence[str]) -> float:
    """Share of ``texts`` written mostly in the other language's script (0.0 for none)."""
    pairs = list(zip(texts, languages, strict=True))
    return sum(confused(t, lang) for t, lang in pairs) / len(pairs) if pairs else 0.0
