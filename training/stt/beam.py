"""CTC prefix beam search with a character n-gram LM, in TensorFlow ops (saved with the model).

The prefix beam search of Hannun et al. (2014, "First-pass large vocabulary continuous
speech recognition using bi-directional recurrent DNNs"): every beam is a distinct output
prefix with two probabilities, ending in a blank (``pb``) or in its last character
(``pnb``). At each step a beam either stays (blank, or its last character repeated) or is
extended by one of the step's ``chars_per_step`` likeliest characters, weighted by
``lm_weight * log P_lm(char | prefix) + char_bonus``. An extension that equals a beam
already kept is merged into it (prefixes are compared by two rolling hashes); the
``beam`` best survive. At the end the sentence-end probability of the LM is added.

Everything is batched ``[batch, beam, ...]`` in a ``tf.while_loop``, so the decoder is part
of the exported graph: the SavedModel needs nothing beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf

from training.stt.lm import BASE, BOS, EOS, CharLM
from training.stt.text import ALPHABET

_HASHES = ((131, 2_147_483_647), (137, 2_147_483_629))  # (multiplier, prime modulus)
_NEG_INF = float("-inf")


@dataclass(frozen=True)
class BeamSettings:
    """Search width and the weights of the LM in the score."""

    beam: int = 16
    chars_per_step: int = 8
    lm_weight: float = 0.5
    char_bonus: float = 1.0


class LMTables(tf.Module):
    """A :class:`CharLM` as saveable tensors, with a batched lookup of distributions."""

    def __init__(self, lm: CharLM):
        super().__init__(name="char_lm")
        self.order = lm.order
        self.keys = tf.Variable(lm.keys, trainable=False, name="context_keys")
        self.log_probs = tf.Variable(lm.log_probs, trainable=False, name="log_probs")

    def lookup(self, history: tf.Tensor) -> tf.Tensor:
        """``history`` ids ``[..., order - 1]`` (newest last, 0 = none) -> ``[..., OUTPUTS]``.

        Each history uses its longest context in the tables (the empty one at row 0).
        """
        flat = tf.reshape(tf.cast(history, tf.int64), [-1, max(self.order - 1, 1)])
        rows = tf.zeros(tf.shape(flat)[:1], tf.int64)
        key = tf.zeros_like(rows)
        last_row = tf.cast(tf.size(self.keys), tf.int64) - 1
        for k in range(1, self.order):
            key += flat[:, -k] * BASE ** (k - 1)
            row = tf.minimum(tf.searchsorted(self.keys, key, out_type=tf.int64), last_row)
            rows = tf.where(tf.gather(self.keys, row) == key, row, rows)
        shape = tf.concat([tf.shape(history)[:-1], [tf.shape(self.log_probs)[1]]], 0)
        return tf.reshape(tf.gather(self.log_probs, rows), shape)


def _logaddexp(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    return tf.reduce_logsumexp(tf.stack([a, b]), axis=0)


def _extend_hashes(hashes: list[tf.Tensor], chars: tf.Tensor) -> list[tf.Tensor]:
    c = tf.cast(chars, tf.int64)
    return [(h * mult + c) % prime for h, (mult, prime) in zip(hashes, _HASHES, strict=True)]


def beam_search_decode(
    logits: tf.Tensor,
    steps: tf.Tensor,
    lm: LMTables | None,
    settings: BeamSettings,
) -> tf.Tensor:
    """[b, T, V+1] logits (blank = 0) and [b] valid steps -> [b] UTF-8 strings."""
    log_probs = tf.nn.log_softmax(logits)
    batch, frames = tf.shape(logits)[0], tf.shape(logits)[1]
    width, k = settings.beam, min(settings.chars_per_step, len(ALPHABET))
    context = max(lm.order - 1, 1) if lm is not None else 1
    alpha, bonus = settings.lm_weight, settings.char_bonus

    def lm_scores(history: tf.Tensor) -> tf.Tensor:  # [b, B, ctx] -> [b, B, OUTPUTS]
        if lm is None:
            return tf.zeros(tf.concat([tf.shape(history)[:2], [EOS + 1]], 0))
        return alpha * lm.lookup(history)

    neg = tf.fill([batch, width], _NEG_INF)
    state = dict(
        pb=tf.concat([tf.zeros([batch, 1]), neg[:, 1:]], 1),
        pnb=neg,
        history=tf.concat(
            [tf.zeros([batch, width, context - 1], tf.int32), tf.fill([batch, width, 1], BOS)],
            -1,
        ),
        last=tf.zeros([batch, width], tf.int32),
        hash_a=tf.zeros([batch, width], tf.int64),
        hash_b=tf.zeros([batch, width], tf.int64),
        prefix=tf.zeros([batch, width, frames], tf.int32),
        length=tf.zeros([batch, width], tf.int32),
    )

    def step(t: tf.Tensor, s: dict[str, tf.Tensor]) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
        frame = log_probs[:, t]  # [b, V+1]
        top_values, top_ids = tf.math.top_k(frame[:, 1:], k)
        top_ids += 1
        total = _logaddexp(s["pb"], s["pnb"])
        alive = tf.math.is_finite(total)
        # stay: a blank, or the last character repeated (collapsed by CTC)
        stay_pb = total + frame[:, :1]
        repeat = tf.gather(frame, s["last"], batch_dims=1)
        stay_pnb = tf.where(s["last"] > 0, s["pnb"] + repeat, _NEG_INF)
        # extend by each of the step's likeliest characters: [b, B, k]
        chars = tf.broadcast_to(top_ids[:, None, :], [batch, width, k])
        source = tf.where(chars == s["last"][..., None], s["pb"][..., None], total[..., None])
        lm_term = tf.gather(lm_scores(s["history"]), chars - 1, batch_dims=2)
        ext_pnb = source + top_values[:, None, :] + lm_term + bonus
        ext_a, ext_b = _extend_hashes([s["hash_a"][..., None], s["hash_b"][..., None]], chars)
        # an extension equal to a kept (live) beam adds its probability to that beam
        same = (
            (ext_a[..., None] == s["hash_a"][:, None, None, :])
            & (ext_b[..., None] == s["hash_b"][:, None, None, :])
            & alive[:, None, None, :]
        )  # [b, B, k, B]
        merged = tf.where(same, ext_pnb[..., None], _NEG_INF)
        stay_pnb = _logaddexp(
            stay_pnb, tf.reduce_logsumexp(tf.reshape(merged, [batch, -1, width]), axis=1)
        )
        ext_pnb = tf.where(tf.reduce_any(same, -1), _NEG_INF, ext_pnb)
        # the best ``width`` of stays + extensions
        cand_pb = tf.concat([stay_pb, tf.fill([batch, width * k], _NEG_INF)], 1)
        cand_pnb = tf.concat([stay_pnb, tf.reshape(ext_pnb, [batch, -1])], 1)
        _, top = tf.math.top_k(_logaddexp(cand_pb, cand_pnb), width)
        extended = top >= width
        parent = tf.where(extended, (top - width) // k, top)
        char = tf.where(
            extended,
            tf.gather(tf.reshape(chars, [batch, -1]), tf.maximum(top - width, 0), batch_dims=1),
            0,
        )

        def from_parent(x: tf.Tensor) -> tf.Tensor:
            return tf.gather(x, parent, batch_dims=1)

        history = from_parent(s["history"])
        history = tf.where(
            extended[..., None], tf.concat([history[..., 1:], char[..., None]], -1), history
        )
        hash_a, hash_b = from_parent(s["hash_a"]), from_parent(s["hash_b"])
        new_a, new_b = _extend_hashes([hash_a, hash_b], char)
        length = from_parent(s["length"])
        prefix = from_parent(s["prefix"])
        at_end = tf.range(frames)[None, None, :] == length[..., None]
        new = dict(
            pb=tf.gather(cand_pb, top, batch_dims=1),
            pnb=tf.gather(cand_pnb, top, batch_dims=1),
            history=history,
            last=tf.where(extended, char, from_parent(s["last"])),
            hash_a=tf.where(extended, new_a, hash_a),
            hash_b=tf.where(extended, new_b, hash_b),
            prefix=tf.where(extended[..., None] & at_end, char[..., None], prefix),
            length=length + tf.cast(extended, tf.int32),
        )
        active = t < steps  # [b]: padded steps leave the beams as they are

        def keep(new_value: tf.Tensor, old: tf.Tensor) -> tf.Tensor:
            mask = tf.reshape(active, [-1] + [1] * (len(old.shape) - 1))
            return tf.where(mask, new_value, old)

        return t + 1, {name: keep(new[name], s[name]) for name in s}

    _, final = tf.while_loop(
        lambda t, _: t < frames, step, (tf.constant(0), state), parallel_iterations=1
    )
    score = _logaddexp(final["pb"], final["pnb"]) + lm_scores(final["history"])[..., EOS]
    best = tf.argmax(score, axis=-1, output_type=tf.int32)
    ids = tf.gather(final["prefix"], best, batch_dims=1)  # [b, T]
    lengths = tf.gather(final["length"], best, batch_dims=1)
    ids = tf.ragged.boolean_mask(ids, tf.sequence_mask(lengths, frames))
    table = tf.constant(["", *ALPHABET])
    texts = tf.strings.reduce_join(tf.ragged.map_flat_values(tf.gather, table, ids), axis=-1)
    return tf.strings.strip(tf.strings.regex_replace(texts, " +", " "))
