"""Speaker conditioning: an espeak speaker id -> (variant, accent, speed, pitch) in-graph.

The recordings come from many simulated voices (``espeak:<accent>+<variant>:s<wpm>:p<pitch>``).
The model is conditioned on those four parts, so each recording teaches it without blurring
the voices together; at inference a fixed house speaker per language gives one clean voice.
Unknown speakers (real speech) map to id 0 and the catalog's mean speed and pitch.
"""

from __future__ import annotations

import tensorflow as tf

from core.voices import BASE_VOICES, VARIANTS

ACCENTS: tuple[str, ...] = tuple(v for voices in BASE_VOICES.values() for v in voices)
SPEED_MEAN, SPEED_SCALE = 160.0, 30.0
PITCH_MEAN, PITCH_SCALE = 50.0, 20.0
_PATTERN = r"espeak:[^:+]+\+[^:]+:s[0-9]+:p[0-9]+"


def _table(keys: tuple[str, ...]) -> tf.lookup.StaticHashTable:
    return tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(keys), tf.range(1, len(keys) + 1, dtype=tf.int32)
        ),
        default_value=0,
    )


class SpeakerParser(tf.Module):
    """``speakers [b]`` strings -> ``variant [b]``, ``accent [b]`` ids, ``prosody [b, 2]``."""

    n_variants = len(VARIANTS) + 1
    n_accents = len(ACCENTS) + 1

    def __init__(self):
        super().__init__(name="tts_speaker_parser")
        self.variants = _table(VARIANTS)
        self.accents = _table(ACCENTS)

    def __call__(self, speakers: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        valid = tf.strings.regex_full_match(speakers, _PATTERN)
        safe = tf.where(valid, speakers, f"espeak:?+?:s{SPEED_MEAN:.0f}:p{PITCH_MEAN:.0f}")
        parts = tf.strings.split(safe, ":").to_tensor("", shape=[None, 4])
        voice = tf.strings.split(parts[:, 1], "+", maxsplit=1).to_tensor("", shape=[None, 2])
        speed = tf.strings.to_number(tf.strings.substr(parts[:, 2], 1, 8), tf.float32)
        pitch = tf.strings.to_number(tf.strings.substr(parts[:, 3], 1, 8), tf.float32)
        prosody = tf.stack(
            [(speed - SPEED_MEAN) / SPEED_SCALE, (pitch - PITCH_MEAN) / PITCH_SCALE], axis=-1
        )
        return self.variants.lookup(voice[:, 1]), self.accents.lookup(voice[:, 0]), prosody
