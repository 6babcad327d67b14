"""The decoder of a trained acoustic model: the LM weight and character bonus that give the
lowest CER on the validation split, from the config's grid (the logits are computed once).

Decoding is masked to each utterance's language, as served. The validation split holds real
human speech beside synthetic voices; a setting is only chosen when it makes neither group's
CER worse than greedy decoding's, so an LM that helps the simulator's sentences cannot make
real speech worse."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
    group_cer: dict[str, dict[str, float]]  # decoder -> {"synthetic" | "real": CER}


def _groups(validation: Prepared) -> dict[str, list[int]]:
    """Row indices of the validation split's synthetic and real-speech rows (non-empty only)."""
    groups = {"synthetic": [], "real": []}
    for i, real in enumerate(validation.real or [False] * len(validation.references)):
        groups["real" if real else "synthetic"].append(i)
    return {name: rows for name, rows in groups.items() if rows}


def best_decoder(validation_cer: dict[str, float], group_cer: dict[str, dict[str, float]]) -> str:
    """The decoder with the lowest validation CER among those that make no group's CER worse
    than ``"greedy"``'s (greedy itself when none does)."""
    greedy = group_cer.get("greedy", {})

    def acceptable(name: str) -> bool:
        return all(cer <= greedy.get(group, cer) for group, cer in group_cer.get(name, {}).items())

    candidates = [name for name in validation_cer if name == "greedy" or acceptable(name)]
    return min(candidates, key=lambda name: (validation_cer[name], name != "greedy"))


def _cer_of(refs: list[str], texts: list[str], rows: list[int]) -> float:
    return cer([refs[i] for i in rows], [texts[i] for i in rows])


def grid_decoders(
    lm: CharLM, config: STTConfig
) -> dict[str, tuple[Callable[[tf.Tensor, tf.Tensor], tf.Tensor], BeamSettings]]:
    """``"lm_weight=W char_bonus=B"`` -> (``decode(logits, steps)``, its settings) for every
    point of ``config.lm_weights`` x ``config.char_bonuses`` (one traced beam search)."""
    tables = LMTables(lm)
    width, chars = config.beam_width, config.chars_per_step
    logits_spec = tf.TensorSpec([None, None, None], tf.float32)
    steps_spec = tf.TensorSpec([None], tf.int32)
    scalar = tf.TensorSpec([], tf.float32)

    @tf.function(input_signature=[logits_spec, steps_spec, scalar, scalar])
    def beam(logits, steps, lm_weight, char_bonus):
        settings = BeamSettings(width, chars, lm_weight, char_bonus)
        return beam_search_decode(logits, steps, tables, settings)

    decoders = {}
    for weight in config.lm_weights:
        for bonus in config.char_bonuses:

            def decode(logits, steps, w=weight, b=bonus):
                return beam(logits, steps, tf.constant(w, tf.float32), tf.constant(b, tf.float32))

            name = f"lm_weight={weight} char_bonus={bonus}"
            decoders[name] = (decode, BeamSettings(width, chars, weight, bonus))
    return decoders


def decoder_cers(
    model: Any,
    data: Prepared,
    groups: dict[str, list[int]],
    decoders: dict[str, Callable[[tf.Tensor, tf.Tensor], tf.Tensor]],
) -> dict[str, dict[str, float]]:
    """decoder -> {``"all"`` and each of ``groups`` (indices into ``data``): CER}, each row
    decoded with its language masked in, as served; the logits are computed once."""
    batches = acoustic_outputs(model, data.waveforms, MODEL_RATE, languages=list(data.languages))
    refs = list(data.references)
    table = {}
    for name, decode in decoders.items():
        texts = decoded_texts(batches, decode, len(refs))
        by_group = {group: _cer_of(refs, texts, rows) for group, rows in groups.items()}
        table[name] = {"all": cer(refs, texts)} | by_group
    return table


def choose_decoder(
    serving: STTServing, lm: CharLM, validation: Prepared, config: STTConfig
) -> DecoderChoice:
    """Grid-search ``config.lm_weights`` x ``config.char_bonuses`` on ``validation``;
    greedy decoding stays when no setting beats it."""
    grid = grid_decoders(lm, config)
    decoders = {"greedy": greedy_decode} | {name: decode for name, (decode, _) in grid.items()}
    by_group = decoder_cers(serving, validation, _groups(validation), decoders)
    results = {name: cells.pop("all") for name, cells in by_group.items()}
    best = best_decoder(results, by_group)
    chosen = grid[best][1] if best in grid else None
    return DecoderChoice(settings=chosen, validation_cer=results, group_cer=by_group)
