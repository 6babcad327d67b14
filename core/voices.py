"""The catalog of synthetic speakers: espeak-ng base voices x variants x speeds x pitches.

A speaker id reads ``espeak:<voice>+<variant>:s<speed>:p<pitch>`` (e.g.
``espeak:ru+f3:s150:p60``); :func:`parse_espeak_id` turns it back into its parts.

Held-out voices: every speaker built on a variant of :data:`HELD_OUT_VARIANTS` (3 of the
15 variants, i.e. 20 % of each language's catalog) is marked ``held_out=True``. Whole
variants are held out, so a held-out voice's timbre is never heard by a model trained on
the other voices; those speakers are reserved for test splits.

The catalog is a pure function of the constants below: same order, same ids, every run.
"""

from __future__ import annotations

from dataclasses import dataclass

#: espeak-ng base voices (accents) per language, as listed by ``espeak-ng --voices=<lang>``.
BASE_VOICES: dict[str, tuple[str, ...]] = {
    "ru": ("ru", "ru-lv"),
    "en": ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc"),
}

#: espeak-ng voice variants (``espeak-ng-data/voices/!v``): timbre, formants, synthesis method.
VARIANTS: tuple[str, ...] = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7",
    "f1", "f2", "f3", "f4", "f5",
    "klatt", "klatt2", "klatt3",
)  # fmt: skip

#: Variants reserved for test splits (a male, a female and a Klatt timbre): 20 % of each catalog.
HELD_OUT_VARIANTS: frozenset[str] = frozenset({"m7", "f5", "klatt3"})

#: Speaking rates (words per minute) and pitches (espeak 0-99 scale) the catalog draws from.
SPEEDS: tuple[int, ...] = (130, 145, 160, 175, 190)
PITCHES: tuple[int, ...] = (30, 40, 50, 60, 70)

#: Prosody settings (speed, pitch) per (base voice, variant), so each language has 90 speakers.
PROSODIES_PER_VOICE: dict[str, int] = {"ru": 3, "en": 1}

LANGUAGES: tuple[str, ...] = ("ru", "en")


@dataclass(frozen=True)
class Speaker:
    """One voice of the simulation: synthetic (espeak) or a real recorded speaker."""

    id: str  # e.g. "espeak:ru+f3:s150:p60" or "festvox-ru:<utterance id>"
    language: str  # "ru" | "en"
    held_out: bool  # True: a voice reserved for test splits (never used for training)


@dataclass(frozen=True)
class EspeakVoice:
    """The espeak-ng settings a speaker id stands for."""

    voice: str  # "<base>+<variant>", the argument of ``espeak-ng -v``
    speed: int  # words per minute
    pitch: int  # 0-99

    @property
    def variant(self) -> str:
        return self.voice.split("+", 1)[1] if "+" in self.voice else ""


def espeak_id(voice: str, variant: str, speed: int, pitch: int) -> str:
    """The speaker id of an espeak voice setting."""
    return f"espeak:{voice}+{variant}:s{speed}:p{pitch}"


def parse_espeak_id(speaker_id: str) -> EspeakVoice:
    """Split ``espeak:<voice>+<variant>:s<speed>:p<pitch>``; ValueError if malformed."""
    parts = speaker_id.split(":")
    if len(parts) != 4 or parts[0] != "espeak" or not parts[2].startswith("s"):
        raise ValueError(f"not an espeak speaker id: {speaker_id!r}")
    if not parts[3].startswith("p") or not parts[1]:
        raise ValueError(f"not an espeak speaker id: {speaker_id!r}")
    try:
        speed, pitch = int(parts[2][1:]), int(parts[3][1:])
    except ValueError as exc:
        raise ValueError(f"not an espeak speaker id: {speaker_id!r}") from exc
    if not (80 <= speed <= 450 and 0 <= pitch <= 99):
        raise ValueError(f"speed or pitch out of range in {speaker_id!r}")
    return EspeakVoice(voice=parts[1], speed=speed, pitch=pitch)


def _prosody(base_index: int, variant_index: int, k: int) -> tuple[int, int]:
    """A (speed, pitch) pair spread over the grid, fixed for a catalog position."""
    speed = SPEEDS[(base_index * 2 + variant_index + k * 2) % len(SPEEDS)]
    pitch = PITCHES[(base_index + variant_index * 3 + k) % len(PITCHES)]
    return speed, pitch


def speakers(language: str) -> list[Speaker]:
    """The deterministic espeak speaker catalog of ``language`` ("ru" or "en")."""
    if language not in BASE_VOICES:
        raise ValueError(f"unsupported language {language!r}; expected one of {LANGUAGES}")
    catalog: list[Speaker] = []
    for b, base in enumerate(BASE_VOICES[language]):
        for v, variant in enumerate(VARIANTS):
            for k in range(PROSODIES_PER_VOICE[language]):
                speed, pitch = _prosody(b, v, k)
                catalog.append(
                    Speaker(
                        id=espeak_id(base, variant, speed, pitch),
                        language=language,
                        held_out=variant in HELD_OUT_VARIANTS,
                    )
                )
    return catalog
