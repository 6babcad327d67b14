"""A character n-gram language model of transcripts, as tables the beam-search decoder reads.

Interpolated Witten-Bell smoothing: for a context ``h`` seen ``c(h)`` times, followed by
``t(h)`` distinct characters,

    P(w | h) = (c(h, w) + t(h) * P(w | h')) / (c(h) + t(h))

where ``h'`` is ``h`` without its oldest character, down to add-one unigrams. The model
predicts the characters of :data:`training.stt.text.ALPHABET` and the end of the sentence.

Tables (:class:`CharLM`): every context seen in training, as an integer key (its character
ids in base :data:`BASE`, newest in the lowest digit, :data:`BOS` for the sentence start),
sorted, with its full distribution as a row of log-probabilities. An unseen context falls
back to its longest seen suffix, which is what interpolation gives a context never counted.
A context that reaches past the sentence start has zeros in its high digits, so its key is
the key of the shorter context that starts at :data:`BOS`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from training.stt.text import ALPHABET, encode

BOS = len(ALPHABET) + 1  #: context id of the sentence start (characters are 1..len(ALPHABET))
BASE = 64  #: context keys are base-64 numbers of character ids
EOS = len(ALPHABET)  #: output column of the sentence end (column c - 1 is character id c)
OUTPUTS = len(ALPHABET) + 1
MAX_ORDER = 10  # 9 context characters in base 64 still fit an int64

assert BOS < BASE


def context_key(ids: Iterable[int]) -> int:
    """Key of a context given oldest-first character ids (:data:`BOS` allowed)."""
    key = 0
    for i in ids:
        key = key * BASE + int(i)
    return key


@dataclass(frozen=True)
class CharLM:
    """Sorted context keys and their next-character log-probabilities ``[n, OUTPUTS]``."""

    order: int
    keys: np.ndarray  # int64, sorted, 0 (the empty context) first
    log_probs: np.ndarray  # float32 [len(keys), OUTPUTS]

    def distribution(self, history: list[int]) -> np.ndarray:
        """Log-probabilities after ``history`` (ids, oldest first, starting with BOS)."""
        for k in range(min(self.order - 1, len(history)), -1, -1):
            key = context_key(history[len(history) - k :]) if k else 0
            row = int(np.searchsorted(self.keys, key))
            if row < len(self.keys) and self.keys[row] == key:
                return self.log_probs[row]
        raise AssertionError("the empty context is always in the table")

    def sentence_log_prob(self, text: str) -> float:
        """Natural-log probability of a normalized sentence, its end included."""
        history, total = [BOS], 0.0
        for i in encode(text):
            total += float(self.distribution(history)[i - 1])
            history.append(i)
        return total + float(self.distribution(history)[EOS])


def fit_char_lm(texts: Iterable[str], order: int = 6, min_count: int = 1) -> CharLM:
    """Count normalized ``texts`` and smooth (see the module doc).

    ``min_count``: contexts seen fewer times are left out of the tables (they fall back
    to their suffix), which keeps the tables small at high orders.
    """
    if not 1 <= order <= MAX_ORDER:
        raise ValueError(f"order must be 1..{MAX_ORDER}, got {order}")
    counts: dict[tuple[int, ...], Counter[int]] = defaultdict(Counter)
    for text in texts:
        ids = [BOS, *encode(text)]
        targets = [i - 1 for i in ids[1:]] + [EOS]
        for position, target in enumerate(targets, start=1):
            for k in range(min(order - 1, position) + 1):
                counts[tuple(ids[position - k : position])][target] += 1
    unigram = np.ones(OUTPUTS)
    for target, n in counts[()].items():
        unigram[target] += n
    dists: dict[tuple[int, ...], np.ndarray] = {(): unigram / unigram.sum()}
    for context in sorted((c for c in counts if c), key=len):
        seen = counts[context]
        total = sum(seen.values())
        if total < min_count:
            continue
        lower = dists[context[1:]]  # seen at least as often as ``context``: kept too
        observed = np.zeros(OUTPUTS)
        for target, n in seen.items():
            observed[target] = n
        dists[context] = (observed + len(seen) * lower) / (total + len(seen))
    keys = np.array([context_key(c) for c in dists], dtype=np.int64)
    order_of = np.argsort(keys)
    table = np.log(np.stack(list(dists.values()))).astype(np.float32)
    return CharLM(order=order, keys=keys[order_of], log_probs=table[order_of])
