"""Speaker conditioning: a speaker id -> (variant, accent, speed, pitch) in-graph.

The recordings come from many simulated voices. The model is conditioned on four parts of the
speaker id, so each recording teaches it without blurring the voices together; at inference a
fixed house speaker per language gives one clean voice.

* espeak-ng (``espeak:<accent>+<variant>:s<wpm>:p<pitch>``): the variant (m1 ... klatt3), the
  base voice as accent, speed and pitch centred and scaled (ids 1 ... 15 and 1 ... 8).
* flite and Festival (``<engine>:<voice>:t<tempo>:p<semitones>:g<gain>``, :mod:`core.voices`):
  the ``<engine>:<voice>`` pair as variant (ids after espeak's, in the order of
  :data:`core.voices.NATURAL_VOICES`), the engine as accent, the sox tempo as speed (tempo
  ``t`` counts as ``t`` times the mean espeak speed) and the pitch shift as pitch (2 semitones
  = one scale unit, as the espeak pitches 30 ... 70 span -1 ... 1). The gain is the line's level,
  not the voice's.
* Anything else (real speech, unknown voices) maps to id 0 and the mean speed and pitch.
"""

from __future__ import annotations

import tensorflow as tf

from core.voices import BASE_VOICES, NATURAL_VOICES, VARIANTS

ACCENTS: tuple[str, ...] = tuple(v for voices in BASE_VOICES.values() for v in voices)
#: flite and Festival voices as ``<engine>:<voice>``, in catalog order.
NATURAL_VARIANTS: tuple[str, ...] = tuple(
    f"{engine}:{voice}"
    for engine, by_language in NATURAL_VOICES.items()
    for voices in by_language.values()
    for voice in voices
)
NATURAL_ACCENTS: tuple[str, ...] = tuple(NATURAL_VOICES)  # the engines
SPEED_MEAN, SPEED_SCALE = 160.0, 30.0
PITCH_MEAN, PITCH_SCALE = 50.0, 20.0
SEMITONE_SCALE = 2.0
_ESPEAK = r"espeak:[^:+]+\+[^:]+:s[0-9]+:p[0-9]+"
_NATURAL = r"[a-z]+:[a-z0-9_]+:t[0-9]\.[0-9]+:p[+-][0-9]+:g[+-][0-9]+"


def _table(keys: tuple[str, ...]) -> tf.lookup.StaticHashTable:
    return tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(keys), tf.range(1, len(keys) + 1, dtype=tf.int32)
        ),
        default_value=0,
    )


class SpeakerParser(tf.Module):
    """``speakers [b]`` strings -> ``variant [b]``, ``accent [b]`` ids, ``prosody [b, 2]``."""

    n_variants = len(VARIANTS) + len(NATURAL_VARIANTS) + 1
    n_accents = len(ACCENTS) + len(NATURAL_ACCENTS) + 1

    def __init__(self):
        super().__init__(name="tts_speaker_parser")
        self.variants = _table(VARIANTS + NATURAL_VARIANTS)
        self.accents = _table(ACCENTS + NATURAL_ACCENTS)

    def __call__(self, speakers: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        variant, accent, prosody = self._espeak(speakers)
        natural_variant, natural_accent, natural_prosody = self._natural(speakers)
        natural = natural_variant > 0
        return (
            tf.where(natural, natural_variant, variant),
            tf.where(natural, natural_accent, accent),
            tf.where(natural[:, None], natural_prosody, prosody),
        )

    def _espeak(self, speakers: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """espeak ids' parts; anything else: id 0 and the mean speed and pitch."""
        valid = tf.strings.regex_full_match(speakers, _ESPEAK)
        safe = tf.where(valid, speakers, f"espeak:?+?:s{SPEED_MEAN:.0f}:p{PITCH_MEAN:.0f}")
        parts = tf.strings.split(safe, ":").to_tensor("", shape=[None, 4])
        voice = tf.strings.split(parts[:, 1], "+", maxsplit=1).to_tensor("", shape=[None, 2])
        speed = tf.strings.to_number(tf.strings.substr(parts[:, 2], 1, 8), tf.float32)
        pitch = tf.strings.to_number(tf.strings.substr(parts[:, 3], 1, 8), tf.float32)
        prosody = tf.stack(
            [(speed - SPEED_MEAN) / SPEED_SCALE, (pitch - PITCH_MEAN) / PITCH_SCALE], axis=-1
        )
        return self.variants.lookup(voice[:, 1]), self.accents.lookup(voice[:, 0]), prosody

    def _natural(self, speakers: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """flite and Festival ids' parts; variant id 0 for anything else (or an unknown voice)."""
        valid = tf.strings.regex_full_match(speakers, _NATURAL)
        safe = tf.where(valid, speakers, "?:?:t1.00:p+0:g+0")
        parts = tf.strings.split(safe, ":").to_tensor("", shape=[None, 5])
        variant = self.variants.lookup(tf.strings.join([parts[:, 0], parts[:, 1]], ":"))
        tempo = tf.strings.to_number(tf.strings.substr(parts[:, 2], 1, 8), tf.float32)
        semitones = tf.strings.to_number(tf.strings.substr(parts[:, 3], 1, 8), tf.float32)
        prosody = tf.stack(
            [(tempo - 1.0) * SPEED_MEAN / SPEED_SCALE, semitones / SEMITONE_SCALE], axis=-1
        )
        variant = tf.where(valid, variant, 0)
        return variant, self.accents.lookup(parts[:, 0]), prosody
