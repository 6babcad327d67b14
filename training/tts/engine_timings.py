"""What a natural engine (flite, Festival) says for a text, and when: its audio, its tokens and
the end time of each phone segment, from the same synthesis the simulator runs.

* Festival: :meth:`core.synthesis.FestivalSession.timed_wav`, one ``festival --pipe`` process
  for many utterances (its start costs 0.15-0.9 s), the text prepared as the simulator does
  (:func:`core.synthesis.festival_text`).
* flite: ``libflite`` through ctypes, reading the file as the ``flite -f <file>`` CLI does
  (``flite_file_to_speech``: the text cut into utterances at sentence ends, their audio
  concatenated); a ``post_synth_hook_func`` reads each utterance's Token and Segment
  relations and its wave. The audio has the CLI's length and the timings are the CLI's (the
  diphone voices' samples are the CLI's too; the others draw excitation noise from ``rand()``,
  so after a process's first utterance their samples differ slightly, their timing does not).

A segment's token is the token whose word it belongs to (a number token's several words share
it); a pause has none (-1). Tokens are the engines' own: whitespace-separated, leading and
trailing punctuation stripped.
"""

from __future__ import annotations

import ctypes
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.synthesis import (
    FestivalSession,
    Segment,
    festival_text,
    flite_input,
    parse_stream_wav,
)
from core.voices import NaturalVoice
from training.common.process_wide import ProcessWide


@dataclass
class EngineTiming:
    """An engine's audio of a text (before sox's tempo and pitch) and its segment timings."""

    samples: np.ndarray  # int16
    sample_rate: int
    tokens: list[str]
    segments: list[Segment]  # (phone, end in seconds, token index or -1 for a pause)


class _Voice(ctypes.Structure):  # the head of cst_voice (flite's cst_voice.h)
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("features", ctypes.c_void_p),
        ("ffunctions", ctypes.c_void_p),
    ]


class _Wave(ctypes.Structure):  # cst_wave (flite's cst_wave.h)
    _fields_ = [
        ("type", ctypes.c_char_p),
        ("sample_rate", ctypes.c_int),
        ("num_samples", ctypes.c_int),
        ("num_channels", ctypes.c_int),
        ("samples", ctypes.POINTER(ctypes.c_short)),
    ]


_HOOK = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p)
_SIGNATURES = {
    "flite_init": (ctypes.c_int, []),
    "flite_file_to_speech": (ctypes.c_float, [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_char_p]),
    "utt_relation": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p]),
    "utt_wave": (ctypes.POINTER(_Wave), [ctypes.c_void_p]),
    "relation_head": (ctypes.c_void_p, [ctypes.c_void_p]),
    "item_next": (ctypes.c_void_p, [ctypes.c_void_p]),
    "item_feat_string": (ctypes.c_char_p, [ctypes.c_void_p, ctypes.c_char_p]),
    "item_feat_float": (ctypes.c_float, [ctypes.c_void_p, ctypes.c_char_p]),
    "path_to_item": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p]),
    "uttfunc_val": (ctypes.c_void_p, [ctypes.c_void_p]),
    "feat_set": (None, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]),
}


class Flite(ProcessWide):
    """libflite with the simulator's voices (the library is process-wide; calls are locked)."""

    def __init__(self) -> None:
        self.lib = ctypes.CDLL("libflite.so.1")
        for name, (result, arguments) in _SIGNATURES.items():
            function = getattr(self.lib, name)
            function.restype, function.argtypes = result, arguments
        self.lib.flite_init()
        self._voices: dict[str, int] = {}
        self._utterances: list[tuple[list[str], list[Segment], np.ndarray, int]] = []
        self._hook = _HOOK(self._on_utterance)  # keep a reference: C holds the pointer

    def _voice(self, name: str) -> int:
        """The registered ``cmu_us_<name>`` voice (``flite -voice <name>``), its hook set."""
        if name not in self._voices:
            library = ctypes.CDLL(f"libflite_cmu_us_{name}.so.1")
            register = getattr(library, f"register_cmu_us_{name}")
            register.restype, register.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
            voice = register(None)
            if not voice:
                raise ValueError(f"flite has no voice {name!r}")
            features = _Voice.from_address(voice).features
            hook = self.lib.uttfunc_val(ctypes.cast(self._hook, ctypes.c_void_p))
            self.lib.feat_set(features, b"post_synth_hook_func", hook)
            self._voices[name] = voice
        return self._voices[name]

    def _items(self, utterance: int, relation: bytes) -> list[int]:
        item = self.lib.relation_head(self.lib.utt_relation(utterance, relation))
        items = []
        while item:
            items.append(item)
            item = self.lib.item_next(item)
        return items

    def _on_utterance(self, utterance: int) -> int:
        """After each utterance's synthesis: its tokens, segments and wave."""
        lib = self.lib
        tokens = self._items(utterance, b"Token")
        index = {item: k for k, item in enumerate(tokens)}
        segments = []
        for segment in self._items(utterance, b"Segment"):
            token = lib.path_to_item(segment, b"R:SylStructure.parent.parent.R:Token.parent")
            name = lib.item_feat_string(segment, b"name").decode("utf-8", "replace")
            end = float(lib.item_feat_float(segment, b"end"))
            segments.append((name, end, index.get(token, -1) if token else -1))
        wave = lib.utt_wave(utterance).contents
        samples = np.ctypeslib.as_array(wave.samples, (wave.num_samples,)).copy()
        names = [lib.item_feat_string(t, b"name").decode("utf-8", "replace") for t in tokens]
        self._utterances.append((names, segments, samples, wave.sample_rate))
        return utterance

    def timing(self, text: str, voice: str) -> EngineTiming:
        """``flite -voice <voice> -f <text>``'s audio and timings, utterances concatenated."""
        with self._lock, tempfile.TemporaryDirectory(prefix="voiceops-flite-") as tmp:
            path = Path(tmp) / "text.txt"
            path.write_text(flite_input(text), encoding="utf-8")  # as the simulator's CLI call
            self._utterances = []
            self.lib.flite_file_to_speech(str(path).encode(), self._voice(voice), b"none")
            utterances, self._utterances = self._utterances, []
        rates = {rate for *_, rate in utterances}
        if len(rates) > 1:
            raise ValueError(f"flite voice {voice!r} changed its sample rate mid-text")
        rate = rates.pop() if rates else 16000
        tokens: list[str] = []
        segments: list[Segment] = []
        offset = 0  # samples of the utterances before
        for names, utterance_segments, samples, _ in utterances:
            # the diphone voices' waves stop up to ~0.1 s before their last pause's end
            length = len(samples) / rate
            for name, end, token in utterance_segments:
                token = token + len(tokens) if token >= 0 else -1
                segments.append((name, min(end, length) + offset / rate, token))
            tokens += names
            offset += len(samples)
        audio = [samples for _, _, samples, _ in utterances]
        return EngineTiming(
            np.concatenate(audio) if audio else np.zeros(0, np.int16), rate, tokens, segments
        )


class NaturalEngines:
    """The engines a batch of rows needs, started once: one Festival process, libflite."""

    def __init__(self) -> None:
        self._festival: FestivalSession | None = None
        self._folder = tempfile.TemporaryDirectory(prefix="voiceops-festival-")

    def timing(self, text: str, voice: NaturalVoice) -> EngineTiming:
        """What ``voice``'s engine synthesizes for ``text`` (before sox), and when."""
        if voice.engine == "flite":
            return Flite.get().timing(text, voice.voice)
        if self._festival is None:
            self._festival = FestivalSession()
        wav_path = Path(self._folder.name) / "festival.wav"
        tokens, segments = self._festival.timed_wav(
            festival_text(text, voice.voice), voice.voice, wav_path
        )
        samples, rate = parse_stream_wav(wav_path.read_bytes(), "festival")
        return EngineTiming(samples, rate, tokens, segments)

    def close(self) -> None:
        """Stop the Festival process and remove its folder."""
        if self._festival is not None:
            self._festival.close()
        self._folder.cleanup()

    def __enter__(self) -> NaturalEngines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
