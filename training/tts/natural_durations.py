"""Character durations of natural-voice rows (flite, Festival) from their engine's own timings.

A natural-voice recording is the engine's audio made ``t`` times faster by ``sox tempo -s t``
(WSOLA: exactly ``1/t`` of the length, each moment moved to about ``1/t`` of its time), shifted
in pitch by ``sox pitch`` (length kept), through the telephone line (timing kept;
:mod:`core.synthesis`, :mod:`core.audio`).
Re-synthesizing the text with the same engine and voice (:mod:`training.tts.engine_timings`)
gives every phone's end and the token it belongs to. The engine's tokens are found in the text
in order (case-insensitively; only spaces and punctuation may lie between them), and the timings
become the :class:`~training.tts.durations.Alignment` espeak-ng's events give (a word per spoken
token at the text position where it starts, a phoneme per segment, pauses named ``_``), so
characters get their time by :func:`~training.tts.durations.char_boundaries` exactly as
espeak's rows do. The boundaries are then divided by the tempo.

A row is skipped, with its reason, when its speaker is no catalog voice, when the engine fails,
when a spoken token cannot be found in the text (the Russian voice reads Latin spelled in
Cyrillic; a number the engine read as one token, "3000", is found as the text's digit groups,
"3 000"), when the engine leaves words of the text unsaid, or when the recording's length
differs from the engine's at that tempo by more than :data:`LENGTH_TOLERANCE` (another text,
voice or engine version; also recordings made before two simulator fixes: the ``flite`` CLI
dropped a last one-word sentence given without a newline, the Russian voice said nothing for
the "000" of "112 000").
"""

from __future__ import annotations

import re

import numpy as np

from core.synthesis import SynthesisError
from core.voices import parse_natural_id
from training.tts.durations import Alignment, char_boundaries, frame_durations, is_word_char
from training.tts.engine_timings import EngineTiming, NaturalEngines

#: How far a recording's length may be from the engine's audio at the speaker's tempo (share
#: of the length; at least one frame). Here sox's tempo hits ``1/t`` of the length to the
#: sample; the margin allows for other sox builds.
LENGTH_TOLERANCE = 0.02
UNKNOWN_VOICE = "natural voice not in the catalog"
ENGINE_FAILED = "natural voice engine failed"
UNMAPPED = "engine tokens do not match the text"
UNSAID = "engine leaves words of the text unsaid"
MISMATCH = "recording does not match the engine's timing"


def _token_pattern(token: str) -> re.Pattern[str]:
    """``token`` case-insensitively, a space allowed between its digits (digit groups)."""
    parts = [re.escape(char) for char in token]
    pattern = "".join(
        part + (r"[ \u00a0\u202f]?" if char.isdigit() and after.isdigit() else "")
        for part, char, after in zip(parts, token, token[1:] + " ", strict=True)
    )
    return re.compile(pattern, re.IGNORECASE)


def token_positions(text: str, tokens: list[str], spoken: list[int]) -> dict[int, int] | str:
    """Text position where each spoken token (by index into ``tokens``) starts, or why they
    cannot be placed: a token not found in order (:data:`UNMAPPED`), or words of the text
    between or after them that the engine does not say (:data:`UNSAID`)."""
    positions: dict[int, int] = {}
    cursor = 0
    for index in spoken:
        match = _token_pattern(tokens[index]).search(text, cursor) if tokens[index] else None
        if match is None:
            return UNMAPPED
        found = match.start()
        if any(is_word_char(char) for char in text[cursor:found]):
            return UNSAID
        positions[index] = found
        cursor = match.end()
    if any(is_word_char(char) for char in text[cursor:]):
        return UNSAID
    return positions


def engine_alignment(text: str, timing: EngineTiming) -> Alignment | str:
    """The engine's timing of ``text`` as espeak-style word and phoneme events (samples at the
    engine's rate), or why its tokens cannot be placed in the text."""
    spoken = sorted({token for _, _, token in timing.segments if token >= 0})
    positions = token_positions(text, timing.tokens, spoken)
    if isinstance(positions, str):
        return positions
    words: list[tuple[int, int]] = []
    word_of: dict[int, int] = {}
    phonemes: list[tuple[str, int, int]] = []
    start = 0
    for name, end, token in timing.segments:
        if token >= 0 and token not in word_of:
            word_of[token] = len(words)
            words.append((positions[token], start))
        word = word_of[token] if token >= 0 else len(words) - 1
        phonemes.append((name if token >= 0 else "_", start, word))
        start = round(end * timing.sample_rate)
    return Alignment(timing.samples, timing.sample_rate, words, phonemes)


def natural_durations(
    text: str, speaker: str, recorded: int, rate: int, hop: int, engines: NaturalEngines
) -> tuple[np.ndarray, int] | str:
    """Frame durations of ``^ + text + $`` for a natural-voice recording of ``recorded``
    samples at ``rate``, and the length in samples they cover; or why the row is skipped."""
    try:
        voice = parse_natural_id(speaker)
    except ValueError:
        return UNKNOWN_VOICE
    try:
        timing = engines.timing(text, voice)
    except (SynthesisError, OSError, ValueError):
        return ENGINE_FAILED
    alignment = engine_alignment(text, timing)
    if isinstance(alignment, str):
        return alignment
    n = round(len(timing.samples) / voice.tempo * rate / timing.sample_rate)
    if abs(recorded - n) > max(hop, LENGTH_TOLERANCE * n):
        return MISMATCH
    ends = char_boundaries(text, alignment) / voice.tempo
    return frame_durations(ends, timing.sample_rate, rate, hop, 1 + n // hop), n


def natural_durations_many(
    items: list[tuple[str, str, int]], rate: int, hop: int
) -> list[tuple[np.ndarray, int] | str]:
    """:func:`natural_durations` of each ``(text, speaker id, recorded samples)``, with one
    Festival process and one libflite for all of them."""
    results: list[tuple[np.ndarray, int] | str] = [""] * len(items)
    if not items:
        return results
    # grouped by voice: rows alternating three Festival voices took ~10 ms more each here
    order = sorted(range(len(items)), key=lambda i: items[i][1].rsplit(":", 3)[0])
    with NaturalEngines() as engines:
        for i in order:
            results[i] = natural_durations(*items[i], rate, hop, engines)
    return results
