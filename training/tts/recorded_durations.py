# ruff: noqa: RUF001, RUF002 (Russian letters are the data here)
"""Character durations of real recordings from their phone labels (Debian's festvox-ru).

festvox-ru ships, beside each recording, the phone segmentation its voice was built from
(``lab/<utterance>.lab``: one ``<end seconds> 125 <phone>`` line per phone, ``pau`` for
silence). The TTS model reads characters, so the phones are matched to the transcript's
letters by a monotonic alignment (:func:`align_letters`, dynamic programming): a letter is
spoken as one phone it can stand for (``LETTER_PHONES``: hard/soft and voiced/devoiced
consonants, reduced vowels), an iotated vowel (е, ё, ю, я) as ``j`` + vowel, a soft or hard
sign as nothing; anything else costs a penalty, and an utterance whose labels disagree with
its text (``max_cost_per_letter``) is not used. A letter lasts from its first phone's start
to its last phone's end; the time between two words (their pause included) goes to the
spaces and punctuation between them, as in :func:`training.tts.durations.char_boundaries`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from core.audio import FESTVOX_RU_DIR
from core.voices import REAL_SPEECH_ENGINE
from training.tts.durations import frame_durations

PAUSE = "pau"
REAL_SPEAKER_PREFIX = f"{REAL_SPEECH_ENGINE}:"

_REDUCED = ("ur",)
#: The phones of festvox-ru (msu_ru_nsh) each Russian letter may be spoken as; doubled
#: consonants are the soft ones.
LETTER_PHONES: dict[str, frozenset[str]] = {
    letter: frozenset(phones)
    for letter, phones in {
        "а": ("a", "aa", "ay", "ae", "i", "y", *_REDUCED),
        "о": ("oo", "a", "aa", "ay", "ae", *_REDUCED),
        "у": ("u", "uu", *_REDUCED),
        "ы": ("y", "yy", "i", *_REDUCED),
        "э": ("ee", "e", "ae", "y"),
        "и": ("i", "ii", "y", "yy", *_REDUCED),
        "е": ("ee", "e", "i", "ii", "y", "ae", *_REDUCED),
        "ё": ("oo", "uu"),
        "ю": ("u", "uu", *_REDUCED),
        "я": ("a", "aa", "ae", "i", "ay", *_REDUCED),
        "б": ("b", "bb", "p", "pp"),
        "в": ("v", "vv", "f", "ff"),
        "г": ("g", "gg", "k", "kk", "h", "hh", "v", "vv"),
        "д": ("d", "dd", "t", "tt"),
        "ж": ("zh", "sh"),
        "з": ("z", "zz", "s", "ss", "zh", "sh"),
        "й": ("j",),
        "к": ("k", "kk", "g", "gg", "h"),
        "л": ("l", "ll"),
        "м": ("m", "mm"),
        "н": ("n", "nn"),
        "п": ("p", "pp", "b", "bb"),
        "р": ("r", "rr"),
        "с": ("s", "ss", "z", "zz", "sh", "zh", "sch"),
        "т": ("t", "tt", "d", "dd", "c"),
        "ф": ("f", "ff", "v", "vv"),
        "х": ("h", "hh", "k", "kk"),
        "ц": ("c",),
        "ч": ("ch", "sh", "sch"),
        "ш": ("sh", "zh"),
        "щ": ("sch", "ch", "sh"),
        "ь": (),
        "ъ": (),
    }.items()
}
IOTATED = frozenset("еёюяи")
SILENT = frozenset("ьъ")
_MISMATCH, _SKIP_LETTER, _SKIP_PHONE = 1.0, 1.0, 1.0


@dataclass(frozen=True)
class Phone:
    """One labelled phone: its name and span in seconds."""

    name: str
    start: float
    end: float


def read_lab(path: Path) -> list[Phone]:
    """The phones of a festvox ``.lab`` file (a header up to ``#``, then end times)."""
    phones, start, body = [], 0.0, False
    for line in path.read_text(encoding="utf-8").splitlines():
        if not body:
            body = line.strip() == "#"
            continue
        parts = line.split()
        if len(parts) < 3:
            continue
        end = float(parts[0])
        phones.append(Phone(parts[2], start, end))
        start = end
    if not phones:
        raise ValueError(f"{path}: no phone labels after the '#' line")
    return phones


def is_letter(char: str) -> bool:
    """Whether ``char`` is spoken (a letter or digit), not a space or punctuation."""
    return char.isalnum()


def align_letters(letters: str, phones: list[str]) -> tuple[list[tuple[int, int]], float]:
    """Each letter's phone range ``[first, stop)`` (empty: silent) and the alignment's cost.

    Monotonic, every phone owned by exactly one letter (a phone no letter stands for goes
    to the letter before it)."""
    n, m = len(letters), len(phones)
    inf = float("inf")
    cost = np.full((n + 1, m + 1), inf)
    step = np.zeros((n + 1, m + 1), np.int8)  # how many phones the last letter took; -1 = skip
    cost[0, 0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            here = cost[i, j]
            if here == inf:
                continue
            if j < m and i > 0 and here + _SKIP_PHONE < cost[i, j + 1]:
                cost[i, j + 1], step[i, j + 1] = here + _SKIP_PHONE, -1  # extra phone
            if i == n:
                continue
            letter = letters[i]
            allowed = LETTER_PHONES.get(letter, frozenset())
            silent = 0.0 if letter in SILENT else _SKIP_LETTER
            if here + silent < cost[i + 1, j]:
                cost[i + 1, j], step[i + 1, j] = here + silent, 0
            if j < m:
                one = here + (0.0 if phones[j] in allowed else _MISMATCH)
                if one < cost[i + 1, j + 1]:
                    cost[i + 1, j + 1], step[i + 1, j + 1] = one, 1
            if j + 1 < m and letter in IOTATED and phones[j] == "j":
                two = here + (0.0 if phones[j + 1] in allowed else _MISMATCH)
                if two < cost[i + 1, j + 2]:
                    cost[i + 1, j + 2], step[i + 1, j + 2] = two, 2
    # walk back: the letter owning each phone (an extra phone: the letter before it)
    owner = [0] * m
    i, j = n, m
    while i > 0 or j > 0:
        taken = int(step[i, j])
        if taken == -1:
            owner[j - 1] = i - 1
            j -= 1
            continue
        for q in range(j - taken, j):
            owner[q] = i - 1
        j -= taken
        i -= 1
    ranges, q = [], 0
    for letter in range(n):  # a silent letter: the empty range where it stands
        first = q
        while q < m and owner[q] == letter:
            q += 1
        ranges.append((first, q))
    return ranges, float(cost[n, m])


def char_ends(text: str, phones: list[Phone], total_s: float) -> tuple[np.ndarray, float]:
    """Seconds at which each symbol of ``^ + text + $`` ends, and the cost per letter."""
    spoken = [p for p in phones if p.name != PAUSE]
    positions = [k for k, char in enumerate(text) if is_letter(char)]
    letters = "".join(text[k] for k in positions).lower()
    ranges, cost = align_letters(letters, [p.name for p in spoken])
    start_of = {
        k: spoken[r[0]].start for k, r in zip(positions, ranges, strict=True) if r[1] > r[0]
    }
    end_of = {
        k: spoken[r[1] - 1].end for k, r in zip(positions, ranges, strict=True) if r[1] > r[0]
    }
    ends = np.zeros(len(text) + 2)
    ends[0] = spoken[0].start if spoken else total_s  # ^: the leading silence
    time, k = ends[0], 0
    while k < len(text):
        if is_letter(text[k]):
            time = max(time, end_of.get(k, time))
            ends[k + 1] = time
            k += 1
            continue
        # a run of spaces and punctuation: the time up to the next voiced letter (its pause)
        run_end = k
        while run_end < len(text) and not is_letter(text[run_end]):
            run_end += 1
        following = [start_of[q] for q in range(run_end, len(text)) if q in start_of]
        until = following[0] if following else total_s
        width = run_end - k + (0 if following else 1)  # the last run shares with $
        gap = max(until - time, 0.0)
        for j in range(run_end - k):
            ends[k + j + 1] = time + gap * (j + 1) / width
        time = time + gap * (run_end - k) / width
        k = run_end
    ends[-1] = max(total_s, time)
    return np.maximum.accumulate(ends), cost / max(1, len(letters))


@cache
def _labels(utterance: str, root: Path) -> list[Phone] | None:
    path = root / "lab" / f"{utterance}.lab"
    return read_lab(path) if path.exists() else None


def recorded_durations(
    text: str,
    speaker: str,
    n_samples: int,
    rate: int,
    hop: int,
    *,
    max_cost_per_letter: float = 0.15,
    root: Path = FESTVOX_RU_DIR,
) -> np.ndarray | None:
    """Frame durations of ``^ + text + $`` for a real recording of ``n_samples`` at ``rate``
    (speaker ``festvox-ru:<utterance>``); None without labels or when they do not match."""
    if not speaker.startswith(REAL_SPEAKER_PREFIX):
        return None
    phones = _labels(speaker.removeprefix(REAL_SPEAKER_PREFIX), root)
    if phones is None:
        return None
    ends, cost = char_ends(text, phones, n_samples / rate)
    if cost > max_cost_per_letter:
        return None
    return frame_durations(ends * rate, rate, rate, hop, 1 + n_samples // hop)
