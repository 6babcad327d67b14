"""Exact per-character durations from espeak-ng's own events (no aligner to train).

``libespeak-ng`` in synchronous mode reports, with the audio, a WORD event (text position,
sample) per word and a PHONEME event (sample) per phoneme. A recording of the simulator is
that same audio (same voice, speed and pitch) band-passed and resampled, so the events give
its timing exactly. Characters get their time as follows:

* a word's characters share its phonemes' span, character ``i`` of ``n`` covering phoneme
  positions ``[i*P/n, (i+1)*P/n)`` (phoneme boundaries interpolated linearly);
* the pause after a word goes to the spaces and punctuation that follow it;
* the leading silence goes to ``^``, the trailing one (and the end pause) to ``$``.

The output matches :class:`training.tts.text.TextEncoder`: ``len(text) + 2`` frame counts.

libespeak-ng keeps wave-generator state between utterances (timings drift by a few ms from
what a fresh ``espeak-ng`` process says), so every alignment runs in a freshly forked child
of a worker interpreter (see :func:`espeak_durations_many`).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import pickle
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

import numpy as np

from training.common.process_wide import ProcessWide

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def is_word_char(char: str) -> bool:
    """Letters and digits belong to words; everything else carries pauses."""
    return char.isalnum()


_EVENT_WORD, _EVENT_END, _EVENT_PHONEME = 1, 5, 7
_SYNCHRONOUS, _PHONEME_EVENTS, _DONT_EXIT = 2, 0x0001, 0x8000
_RATE, _PITCH = 1, 3
_CHARS_UTF8, _PHONEMES, _ENDPAUSE = 0x1, 0x100, 0x1000  # the espeak-ng CLI's flags
_POS_CHARACTER = 1


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


class _VoiceSelector(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass
class Alignment:
    """A synthesizer's audio of a text and its events (samples at ``sample_rate``): espeak-ng's
    here, flite's and Festival's from their segments (:mod:`training.tts.natural_durations`)."""

    samples: np.ndarray  # int16
    sample_rate: int
    words: list[tuple[int, int]]  # (0-based text position, sample)
    phonemes: list[tuple[str, int, int]]  # (name, sample, index of the word event before)


class Espeak(ProcessWide):
    """One libespeak-ng instance (the library is a process-wide singleton; calls are locked)."""

    def __init__(self) -> None:
        self.lib = ctypes.CDLL("libespeak-ng.so.1")
        self.sample_rate = self.lib.espeak_Initialize(
            _SYNCHRONOUS, 0, None, _PHONEME_EVENTS | _DONT_EXIT
        )
        if self.sample_rate <= 0:
            raise RuntimeError("libespeak-ng failed to initialize")
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, int, int, bytes]] = []
        self._callback = _CALLBACK(self._on_audio)  # keep a reference: C holds the pointer
        self.lib.espeak_SetSynthCallback(self._callback)

    def _on_audio(self, wav, n: int, events) -> int:
        if n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, (n,)).copy())
        i = 0
        while events[i].type != 0:
            e = events[i]
            self._events.append((e.type, e.text_position, e.sample, bytes(e.id)))
            i += 1
        return 0

    def _set_voice(self, voice: str) -> None:
        """As the espeak-ng CLI: a voice file name, else a language (``en-gb+m5``)."""
        if self.lib.espeak_SetVoiceByName(voice.encode()) == 0:
            return
        selector = _VoiceSelector(languages=voice.encode())
        if self.lib.espeak_SetVoiceByProperties(ctypes.byref(selector)) != 0:
            raise ValueError(f"espeak-ng has no voice {voice!r}")

    def align(self, text: str, voice: str, speed: int, pitch: int) -> Alignment:
        """Speak ``text`` exactly as ``espeak-ng -v voice -s speed -p pitch`` does."""
        with self._lock:
            self._chunks, self._events = [], []
            self._set_voice(voice)
            self.lib.espeak_SetParameter(_RATE, speed, 0)
            self.lib.espeak_SetParameter(_PITCH, pitch, 0)
            data = text.encode("utf-8")
            self.lib.espeak_Synth(
                ctypes.c_char_p(data),
                ctypes.c_size_t(len(data) + 1),
                0,
                _POS_CHARACTER,
                0,
                _CHARS_UTF8 | _PHONEMES | _ENDPAUSE,
                None,
                None,
            )
            self.lib.espeak_Synchronize()
            chunks, events = self._chunks, self._events
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
        words: list[tuple[int, int]] = []
        phonemes: list[tuple[str, int, int]] = []
        for kind, position, sample, ident in events:
            if kind == _EVENT_WORD:
                words.append((position - 1, sample))
            elif kind == _EVENT_PHONEME:
                name = ident.split(b"\0", 1)[0].decode("utf-8", "replace")
                phonemes.append((name, sample, len(words) - 1))
        return Alignment(samples, self.sample_rate, words, phonemes)


def _is_pause(name: str) -> bool:
    return name.startswith("_") or not name


def _speech_spans(alignment: Alignment) -> dict[int, list[tuple[int, int]]]:
    """Word event index -> the (start, end) samples of its spoken (non-pause) phonemes."""
    spans: dict[int, list[tuple[int, int]]] = {}
    events, total = alignment.phonemes, len(alignment.samples)
    for k, (name, sample, word_index) in enumerate(events):
        if _is_pause(name) or word_index < 0:
            continue
        end = events[k + 1][1] if k + 1 < len(events) else total
        spans.setdefault(word_index, []).append((sample, end))
    return spans


def char_boundaries(text: str, alignment: Alignment) -> np.ndarray:
    """Sample at which each of ``^ + text + $`` ends: ``len(text) + 2`` increasing values.

    Word events that own no spoken phoneme are ignored: espeak-ng sometimes reports one more
    WORD event, at the position of a clause's punctuation, with only the final pause after
    it; taken as a word it would hand the rest of the utterance to that punctuation.
    """
    n_text, total = len(text), len(alignment.samples)
    speech = _speech_spans(alignment)
    spoken = [i for i in speech if alignment.words[i][0] >= 0]
    # group word events that start at the same text position (e.g. expanded numbers)
    starts = sorted({alignment.words[i][0] for i in spoken if alignment.words[i][0] < n_text})
    spans: dict[int, list[tuple[int, int]]] = {g: [] for g in range(len(starts))}
    for i in spoken:
        group = max((g for g, s in enumerate(starts) if s <= alignment.words[i][0]), default=-1)
        if group >= 0:
            spans[group] += speech[i]
    for group in spans.values():
        group.sort()
    ends = np.zeros(n_text + 2, np.float64)
    first_speech = min((s[0][0] for s in spans.values() if s), default=total)
    ends[0] = first_speech  # ^ : leading silence
    cursor = 1  # next index of ends (character i of text is index i + 1)
    time = float(first_speech)
    for g, start in enumerate(starts):
        stop = starts[g + 1] if g + 1 < len(starts) else n_text
        # characters before this group (only possible before the first word) take no time
        while cursor < start + 1:
            ends[cursor] = time
            cursor += 1
        word_len = stop - start
        while word_len > 0 and not is_word_char(text[start + word_len - 1]):
            word_len -= 1
        word_len = max(word_len, 1)
        phones = spans[g]
        if phones:
            bounds = np.array([phones[0][0]] + [end for _, end in phones], np.float64)
            positions = np.arange(1, word_len + 1) * (len(phones) / word_len)
            char_ends = np.interp(positions, np.arange(len(bounds)), bounds)
            time = max(time, float(bounds[0]))
        else:
            char_ends = np.full(word_len, time)
        for value in char_ends:
            time = max(time, float(value))
            ends[cursor] = time
            cursor += 1
        # the pause up to the next word's speech goes to this group's trailing characters
        next_speech = total
        if g + 1 < len(starts) and spans[g + 1]:
            next_speech = spans[g + 1][0][0]
        trailing = stop - start - word_len
        if g + 1 == len(starts):
            trailing += 1  # the $ mark shares the trailing silence
        if trailing > 0:
            gap = max(next_speech - time, 0.0)
            for j in range(1, trailing + 1):
                ends[cursor] = time + gap * j / trailing
                cursor += 1
            time += gap
    while cursor < n_text + 2:  # text without words: everything after ^ takes no time
        ends[cursor] = total
        cursor += 1
    ends[-1] = total
    return np.maximum.accumulate(ends)


def frame_durations(ends_samples: np.ndarray, source_rate: int, rate: int, hop: int, frames: int):
    """Frame counts per symbol summing to ``frames`` (boundaries rounded, last one = frames)."""
    bounds = np.round(ends_samples * (rate / source_rate) / hop).astype(np.int64)
    bounds = np.minimum(np.maximum.accumulate(bounds), frames)
    bounds[-1] = frames
    return np.diff(np.concatenate([[0], bounds])).astype(np.int32)


def _durations_in_fresh_process(
    text: str, voice: str, speed: int, pitch: int, rate: int, hop: int
) -> tuple[np.ndarray, int] | None:
    try:
        alignment = Espeak.get().align(text, voice, speed, pitch)
    except ValueError:
        return None
    n = round(len(alignment.samples) * rate / alignment.sample_rate)
    ends = char_boundaries(text, alignment)
    return frame_durations(ends, alignment.sample_rate, rate, hop, 1 + n // hop), n


def espeak_durations_many(
    items: list[tuple[str, str, int, int]], rate: int, hop: int, workers: int = 2
) -> list[tuple[np.ndarray, int] | None]:
    """For each ``(text, voice, speed, pitch)``: frame durations of ``^ + text + $`` and the
    audio's length in samples at ``rate``, each by a fresh espeak-ng (None: unknown voice)."""
    if not items:
        return []
    args = [(*item, rate, hop) for item in items]
    # The alignments run in a worker interpreter (this module as __main__: no TensorFlow, no
    # threads) that forks a fresh child per item. Forking this process instead would copy
    # TensorFlow's and Dagster's threads in an unknown state (a hang was seen), and a
    # forkserver re-imports the caller's __main__ in every child (TensorFlow again, ~4 s each).
    with tempfile.TemporaryDirectory(prefix="voiceops-align-") as tmp:
        request, response = Path(tmp, "request.pkl"), Path(tmp, "response.pkl")
        request.write_bytes(pickle.dumps((args, workers)))
        done = subprocess.run(
            [sys.executable, "-m", __name__, str(request), str(response)],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"espeak-ng alignment worker failed: {done.stderr.strip()[-2000:]}")
        return pickle.loads(response.read_bytes())


def _align_child(item: tuple, send: Connection) -> None:
    """In a freshly forked child: one alignment, sent back through the pipe."""
    send.send(_durations_in_fresh_process(*item))
    send.close()


def _serve(request: Path, response: Path) -> None:
    """The worker: align every requested item, each in a freshly forked child.

    Children are forked directly by this single-threaded process, at most ``workers`` at a
    time. (A ``multiprocessing.Pool`` with one task per child re-forks its workers from its
    handler thread while its other threads may hold locks: a replacement child once hung on
    such a lock and the pool waited for it forever.)
    """
    args, workers = pickle.loads(request.read_bytes())
    context = multiprocessing.get_context("fork")  # safe here: this process has no threads
    results: list = [None] * len(args)
    pending = list(enumerate(args))
    running: dict[Connection, tuple[int, multiprocessing.process.BaseProcess]] = {}
    while pending or running:
        while pending and len(running) < max(workers, 1):
            index, item = pending.pop(0)
            receive, send = context.Pipe(duplex=False)
            child = context.Process(target=_align_child, args=(item, send), daemon=True)
            child.start()
            send.close()
            running[receive] = (index, child)
        for ready in wait(list(running)):
            index, child = running.pop(ready)
            try:
                results[index] = ready.recv()
            except EOFError:
                raise RuntimeError(f"espeak-ng alignment of {args[index][0]!r} died") from None
            finally:
                ready.close()
                child.join()
    response.write_bytes(pickle.dumps(results))


def espeak_durations(
    text: str, voice: str, speed: int, pitch: int, rate: int, hop: int
) -> tuple[np.ndarray, int]:
    """Frame durations of ``^ + text + $`` and the audio's length in samples at ``rate``."""
    result = espeak_durations_many([(text, voice, speed, pitch)], rate, hop)[0]
    if result is None:
        raise ValueError(f"espeak-ng has no voice {voice!r}")
    return result


if __name__ == "__main__":
    _serve(Path(sys.argv[1]), Path(sys.argv[2]))
