"""The decoder of a trained acoustic model: the LM weight and character bonus that give the
lowest CER on the validation split, from the config's grid (the logits are computed once)."""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf

from training.stt.beam import BeamSettings, LMTables, beam_search_decode
from training.stt.config import STTConfig
from training.stt.data import Prepared
from training.stt.decode import greedy_decode
from training.stt.evaluate import cer
from training.stt.export import STTServing, acoustic_outputs, decoded_texts
from training.stt.features import MODEL_RATE
from training.stt.lm import CharLM


@dataclass(frozen=True)
class DecoderChoice:
    """The chosen settings and the validation CER of every decoder tried."""

    settings: BeamSettings | None  # None: greedy decoding was best
    validation_cer: dict[str, float]  # "greedy" | "lm_weight=0.6 char_bonus=1.0" -> CER


def choose_decoder(
    serving: STTServing, lm: CharLM, validation: Prepared, config: STTConfig
) -> DecoderChoice:
    """Grid-search ``config.lm_weights`` x ``config.char_bonuses`` on ``validation``;
    greedy decoding stays when no setting beats it."""
    tables = LMTables(lm)
    width, chars = config.beam_width, config.chars_per_step
    logits_spec = tf.TensorSpec([None, None, None], tf.float32)
    steps_spec = tf.TensorSpec([None], tf.int32)
    scalar = tf.TensorSpec([], tf.float32)

    @tf.function(input_signature=[logits_spec, steps_spec, scalar, scalar])
    def beam(logits, steps, lm_weight, char_bonus):
        settings = BeamSettings(width, chars, lm_weight, char_bonus)
        return beam_search_decode(logits, steps, tables, settings)

    batches = acoustic_outputs(serving, validation.waveforms, MODEL_RATE)
    size, refs = len(validation.references), validation.references
    results = {"greedy": cer(refs, decoded_texts(batches, greedy_decode, size))}
    best: tuple[float, BeamSettings | None] = (results["greedy"], None)
    for weight in config.lm_weights:
        for bonus in config.char_bonuses:

            def decode(logits, steps, w=weight, b=bonus):
                return beam(logits, steps, tf.constant(w), tf.constant(b))

            score = cer(refs, decoded_texts(batches, decode, size))
            results[f"lm_weight={weight} char_bonus={bonus}"] = score
            if score < best[0]:
                best = (score, BeamSettings(width, chars, weight, bonus))
    return DecoderChoice(settings=best[1], validation_cer=results)
