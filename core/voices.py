"""The catalog of simulated speakers: espeak-ng, flite and Festival voices x prosody settings.

Speaker ids name the engine first, so a recording's voice can always be rebuilt:

* ``espeak:<base>+<variant>:s<speed>:p<pitch>`` (e.g. ``espeak:ru+f3:s150:p60``);
* ``flite:<voice>:t<tempo>:p<semitones>:g<gain dB>`` (e.g. ``flite:slt:t1.05:p+1:g-3``);
* ``festival:<voice>:t<tempo>:p<semitones>:g<gain dB>`` (e.g.
  ``festival:msu_ru_nsh_clunits:t0.95:p-1:g0``);
* ``festvox-ru:<utterance id>``: a real human recording (:mod:`core.audio`), not synthesized.

:func:`parse_speaker_id` turns a synthetic id back into its settings. flite and Festival voices
are built from recordings of real speakers (awb, kal, rms, slt; msu_ru_nsh in Russian).

Held-out voices (test splits only): espeak variants m7, f5 and klatt3, and every voice of the
English speaker ``kal`` (flite ``kal``/``kal16``, Festival ``kal_diphone``), so a held-out
voice's timbre, or its speaker's in another engine, is never heard in training. Russian has
one natural voice (Festival ``msu_ru_nsh_clunits``, cut from the same speaker's recordings as
festvox-ru, whose sentences are trained on): it stays in training, so Russian's held-out
voices are espeak's only. :func:`held_out_patterns` is the rule as SQL ``LIKE`` patterns,
the dbt var ``held_out_voices`` (a test checks the two agree).

Everything here is a pure function of the constants below: same order, same ids, every run.
"""

from __future__ import annotations

import random
import re
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

#: Voices of the natural engines per language (``flite -lv``; Festival's ``voice_<name>``).
NATURAL_VOICES: dict[str, dict[str, tuple[str, ...]]] = {
    "flite": {"en": ("awb", "kal", "kal16", "rms", "slt"), "ru": ()},
    "festival": {"en": ("kal_diphone", "cmu_us_slt_arctic_hts"), "ru": ("msu_ru_nsh_clunits",)},
}
#: Natural voices reserved for test splits: all of speaker kal's voices.
HELD_OUT_NATURAL: dict[str, frozenset[str]] = {
    "flite": frozenset({"kal", "kal16"}),
    "festival": frozenset({"kal_diphone"}),
}
#: Prosody of natural voices: sox tempo factor, pitch shift (semitones), gain (dB).
TEMPOS: tuple[float, ...] = (0.9, 0.95, 1.0, 1.05, 1.1)
SEMITONES: tuple[int, ...] = (-2, -1, 0, 1, 2)
GAINS_DB: tuple[int, ...] = (-6, -3, 0)
#: Prosody settings per natural voice: fewer for held-out voices, so about a quarter of each
#: engine's draws are held out (flite 6 of 24, Festival English 3 of 9); a language's only
#: voice gets 15 (every distinct setting the grid's cycles give).
PROSODIES_TRAIN, PROSODIES_HELD_OUT, PROSODIES_ONLY_VOICE = 6, 3, 15

#: How often each engine speaks a simulated call, per language (percent). The natural voices
#: are a small share: the demo STT preset (6 x 256 conv blocks, 12 epochs) trained on a demo
#: mart with 50 % natural English voices and 70 % degraded lines reached test CER 0.38
#: (held-out espeak voices 0.26, flite 0.45, Festival 0.59), against 0.066 on espeak voices
#: alone; a larger share needs the ``large`` preset (training/stt/README.md).
ENGINE_WEIGHTS: dict[str, dict[str, int]] = {
    "ru": {"espeak": 90, "festival": 10},
    "en": {"espeak": 85, "flite": 10, "festival": 5},
}
ENGINES: tuple[str, ...] = ("espeak", "flite", "festival")


#: The engine part of a real human recording's speaker id (``festvox-ru:<utterance id>``).
REAL_SPEECH_ENGINE = "festvox-ru"


def speaker_engine(speaker_id: str) -> str:
    """The engine a speaker id names, its prefix: ``espeak``, ``flite``, ``festival``, or
    ``festvox-ru`` for a real human recording."""
    return speaker_id.split(":", 1)[0]


@dataclass(frozen=True)
class Speaker:
    """One voice of the simulation: synthetic or a real recorded speaker."""

    id: str  # e.g. "espeak:ru+f3:s150:p60", "flite:slt:t1.05:p+1:g-3", "festvox-ru:<utt id>"
    language: str  # "ru" | "en"
    held_out: bool  # True: a voice reserved for test splits (never used for training)

    @property
    def engine(self) -> str:
        return speaker_engine(self.id)


@dataclass(frozen=True)
class EspeakVoice:
    """The espeak-ng settings a speaker id stands for."""

    voice: str  # "<base>+<variant>", the argument of ``espeak-ng -v``
    speed: int  # words per minute
    pitch: int  # 0-99

    @property
    def variant(self) -> str:
        return self.voice.split("+", 1)[1] if "+" in self.voice else ""


@dataclass(frozen=True)
class NaturalVoice:
    """A flite or Festival voice and the prosody sox gives it."""

    engine: str  # "flite" | "festival"
    voice: str  # flite's -voice name or Festival's voice_<name>
    tempo: float  # sox tempo factor (1.0 = as synthesized)
    semitones: int  # sox pitch shift
    gain_db: int  # loudness relative to the channel's level


def espeak_id(voice: str, variant: str, speed: int, pitch: int) -> str:
    """The speaker id of an espeak voice setting."""
    return f"espeak:{voice}+{variant}:s{speed}:p{pitch}"


def natural_id(voice: NaturalVoice) -> str:
    """The speaker id of a flite or Festival voice setting."""
    return (
        f"{voice.engine}:{voice.voice}:t{voice.tempo:.2f}:p{voice.semitones:+d}:g{voice.gain_db:+d}"
    )


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


_NATURAL_ID = re.compile(
    r"^(flite|festival):([a-z0-9_]+):t(\d\.\d\d):p([+-]\d+):g([+-]\d+)$",
)


def parse_natural_id(speaker_id: str) -> NaturalVoice:
    """Split ``<flite|festival>:<voice>:t<tempo>:p<semitones>:g<gain>``; ValueError if not."""
    match = _NATURAL_ID.match(speaker_id)
    if not match:
        raise ValueError(f"not a flite or festival speaker id: {speaker_id!r}")
    engine, voice, tempo, semitones, gain = match.groups()
    if not any(voice in voices for voices in NATURAL_VOICES[engine].values()):
        raise ValueError(f"unknown {engine} voice {voice!r} in {speaker_id!r}")
    if not (0.5 <= float(tempo) <= 2.0 and abs(int(semitones)) <= 12 and -30 <= int(gain) <= 0):
        raise ValueError(f"tempo, pitch or gain out of range in {speaker_id!r}")
    return NaturalVoice(engine, voice, float(tempo), int(semitones), int(gain))


def parse_speaker_id(speaker_id: str) -> EspeakVoice | NaturalVoice:
    """The synthesis settings of a synthetic speaker id; ValueError for anything else."""
    if speaker_id.startswith("espeak:"):
        return parse_espeak_id(speaker_id)
    return parse_natural_id(speaker_id)


def _prosody(base_index: int, variant_index: int, k: int) -> tuple[int, int]:
    """A (speed, pitch) pair spread over the grid, fixed for a catalog position."""
    speed = SPEEDS[(base_index * 2 + variant_index + k * 2) % len(SPEEDS)]
    pitch = PITCHES[(base_index + variant_index * 3 + k) % len(PITCHES)]
    return speed, pitch


def _check_language(language: str) -> None:
    if language not in BASE_VOICES:
        raise ValueError(f"unsupported language {language!r}; expected one of {LANGUAGES}")


def speakers(language: str) -> list[Speaker]:
    """The deterministic espeak speaker catalog of ``language`` ("ru" or "en")."""
    _check_language(language)
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


def natural_speakers(engine: str, language: str) -> list[Speaker]:
    """The deterministic catalog of a natural engine's voices in ``language`` (maybe [])."""
    _check_language(language)
    voices = NATURAL_VOICES[engine][language]
    catalog: list[Speaker] = []
    for v, name in enumerate(voices):
        held_out = name in HELD_OUT_NATURAL.get(engine, frozenset())
        count = PROSODIES_HELD_OUT if held_out else PROSODIES_TRAIN
        count = PROSODIES_ONLY_VOICE if len(voices) == 1 else count
        for k in range(count):
            setting = NaturalVoice(
                engine,
                name,
                TEMPOS[(v + 2 * k) % len(TEMPOS)],
                SEMITONES[(2 * v + k) % len(SEMITONES)],
                GAINS_DB[(v + k) % len(GAINS_DB)],
            )
            catalog.append(Speaker(natural_id(setting), language, held_out))
    return catalog


def engine_speakers(engine: str, language: str) -> list[Speaker]:
    """The catalog of one engine (espeak, flite or festival) in ``language``."""
    return speakers(language) if engine == "espeak" else natural_speakers(engine, language)


def catalog(language: str) -> list[Speaker]:
    """Every synthetic speaker of ``language``, engine by engine."""
    return [s for engine in ENGINES for s in engine_speakers(engine, language)]


def pick_speaker(rng: random.Random, language: str) -> Speaker:
    """A speaker for one call: an engine by :data:`ENGINE_WEIGHTS`, then one of its voices."""
    _check_language(language)
    weights = ENGINE_WEIGHTS[language]
    engine = rng.choices(list(weights), list(weights.values()))[0]
    return rng.choice(engine_speakers(engine, language))


def is_held_out(speaker_id: str) -> bool:
    """Whether a speaker id names a voice reserved for test splits (:data:`HELD_OUT_VARIANTS`,
    :data:`HELD_OUT_NATURAL`); the real speaker is never held out. ValueError if malformed."""
    if speaker_engine(speaker_id) == REAL_SPEECH_ENGINE:
        return False
    voice = parse_speaker_id(speaker_id)
    if isinstance(voice, EspeakVoice):
        return voice.variant in HELD_OUT_VARIANTS
    return voice.voice in HELD_OUT_NATURAL.get(voice.engine, frozenset())


def speaker_language(speaker_id: str) -> str:
    """The language a speaker id's voice speaks (the real speaker: Russian). ValueError if
    malformed."""
    if speaker_engine(speaker_id) == REAL_SPEECH_ENGINE:
        return "ru"
    voice = parse_speaker_id(speaker_id)
    if isinstance(voice, EspeakVoice):
        known = BASE_VOICES
        base = voice.voice.split("+", 1)[0]
    else:
        known, base = NATURAL_VOICES[voice.engine], voice.voice
    for language in LANGUAGES:
        if base in known[language]:
            return language
    raise ValueError(f"no language speaks the voice of {speaker_id!r}")


def held_out_patterns() -> list[str]:
    """The held-out rule as SQL ``LIKE`` patterns on speaker ids (dbt var ``held_out_voices``)."""
    patterns = [f"espeak:%+{variant}:%" for variant in sorted(HELD_OUT_VARIANTS)]
    for engine in sorted(HELD_OUT_NATURAL):
        patterns += [f"{engine}:{voice}:%" for voice in sorted(HELD_OUT_NATURAL[engine])]
    return patterns
