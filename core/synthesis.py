"""Speech synthesis engines behind a speaker id: espeak-ng, flite and Festival.

:func:`synthesize` reads the engine from the speaker id's prefix (:mod:`core.voices`) and
returns mono int16 samples and their rate:

* ``espeak``: ``espeak-ng -v <voice> -s <speed> -p <pitch> --stdin --stdout`` (22050 Hz);
* ``flite``: ``flite -voice <voice> -f <text file> -o <wav>`` (8 or 16 kHz per voice);
* ``festival``: a ``festival --pipe`` process per thread, kept for many utterances
  (:class:`FestivalSession`; 16 kHz, the HTS voice 32 kHz); Latin words in Russian text are
  spelled in Cyrillic first (:func:`russian_readable`: the Russian voice cannot read Latin);

then, for flite and Festival, ``sox ... tempo -s <t> pitch <cents>`` gives the speaker's speed
and pitch (gain is the channel's job: it scales the line's output level). A Festival session can
also report the timing of what it synthesized (:meth:`FestivalSession.timed_wav`: each token
and each phone segment's end), which the TTS family's aligner reads. One process per
utterance and step: starting Festival costs 0.15 s (English) to 0.5-0.9 s (Russian clunits)
on this machine, small next to a day's other stages (README, simulator section).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import select
import shutil
import struct
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

from core.voices import EspeakVoice, NaturalVoice, parse_speaker_id

TIMEOUT_S = 120.0


class SynthesisError(RuntimeError):
    """A synthesis engine is missing or failed to produce audio."""


def _binary(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SynthesisError(
            f"{name} is not installed (Debian {package}; run scripts/install_system_deps.sh)"
        )
    return path


def _run(cmd: list[str], what: str, stdin: bytes = b"") -> bytes:
    proc = subprocess.run(cmd, input=stdin, capture_output=True, timeout=TIMEOUT_S, check=False)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise SynthesisError(f"{what} failed: {err[-500:]}")
    return proc.stdout


def parse_stream_wav(data: bytes, what: str = "the engine") -> tuple[np.ndarray, int]:
    """Samples and rate of a streamed 16-bit mono WAV (the data chunk runs to the end: a
    streamed header's size fields may be bogus)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise SynthesisError(f"{what} did not write a WAV stream")
    pos, rate = 12, 0
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if chunk_id == b"fmt ":
            channels, rate = struct.unpack("<HI", data[pos + 10 : pos + 16])
            if channels != 1:
                raise SynthesisError(f"{what} wrote {channels} channels")
        elif chunk_id == b"data":
            body = data[pos + 8 :]
            body = body[: len(body) // 2 * 2]
            return np.frombuffer(body, dtype="<i2"), rate
        pos += 8 + size
    raise SynthesisError(f"{what}'s WAV stream has no data chunk")


def espeak_raw(text: str, voice: str, speed: int, pitch: int) -> tuple[np.ndarray, int]:
    """Run espeak-ng once; return its mono int16 samples and their sample rate."""
    cmd = [_binary("espeak-ng", "espeak-ng"), "-v", voice, "-s", str(speed), "-p", str(pitch)]
    cmd += ["-b", "1", "--stdin", "--stdout"]
    data = _run(cmd, f"espeak-ng voice {voice!r}", text.encode("utf-8"))
    return parse_stream_wav(data, "espeak-ng")


def flite_input(text: str) -> str:
    """The text file flite is given for ``text``: with a final newline, without which flite
    drops a last sentence of one word ("... Thanks.")."""
    return text + "\n"


def _flite_wav(text: str, voice: str, folder: Path) -> Path:
    text_path, wav_path = folder / "text.txt", folder / "flite.wav"
    text_path.write_text(flite_input(text), encoding="utf-8")
    cmd = [_binary("flite", "flite"), "-voice", voice, "-f", str(text_path), "-o", str(wav_path)]
    _run(cmd, f"flite voice {voice!r}")
    return wav_path


#: How a Russian speaker reads Latin letters and the symbols of an e-mail address aloud.
_LATIN_TO_CYRILLIC = dict(
    zip("abcdefghijklmnopqrstuvw", "абкдефгхижклмнопкрстувв", strict=True)
) | {"x": "кс", "y": "й", "z": "з"}
_SPOKEN_SYMBOLS = {"@": " собака ", ".": " точка ", "_": " подчёркивание ", "-": " дефис "}
_LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z0-9@._-]*[A-Za-z0-9]|[A-Za-z]")
#: What the Russian voice's letter-to-sound rules can read (a lone "." or a symbol fails).
_NOT_RUSSIAN_READABLE = re.compile(r"[^\w\s.,!?:;-]|_")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,!?:;])")
_LONE_PUNCTUATION = re.compile(r"(?<!\S)[-.,!?:;]+(?!\S)")
#: A space between digit groups ("3 000"): the Russian voice reads "3" and says nothing for
#: "000", so the groups are joined ("3000": "три тысячи").
_DIGIT_GROUP_SPACE = re.compile(r"(?<=\d)[ \u00a0\u202f](?=\d{3}(?!\d))")


def russian_readable(text: str) -> str:
    """``text`` with Latin words spelled in Cyrillic (e-mail symbols said as words), digit
    groups joined ("3 000" -> "3000") and other symbols (quotes, brackets, +, %) dropped:
    Festival's Russian voice has no letter-to-sound rules for them and fails on them."""

    def spell(match: re.Match[str]) -> str:
        out = []
        for char in match.group(0).lower():
            out.append(_LATIN_TO_CYRILLIC.get(char) or _SPOKEN_SYMBOLS.get(char, char))
        return "".join(out)

    spelled = _LATIN_RUN.sub(spell, _DIGIT_GROUP_SPACE.sub("", text))
    kept = _LONE_PUNCTUATION.sub(" ", _NOT_RUSSIAN_READABLE.sub(" ", spelled))
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join(kept.split()))


#: (phone name, end in seconds, index of its token in the utterance's tokens; -1 for a pause)
Segment = tuple[str, float, int]

#: Prints an utterance's tokens (as Festival's tokenizer cut the text: whitespace-separated,
#: punctuation stripped) and its segments (phone, end time, 1-based index of the token whose
#: word it belongs to, 0 for a pause), each line marked as data for
#: :meth:`FestivalSession._send`; returns the utterance.
_TIMINGS_SCHEME = """(define (voiceops_timings utt)
  (let ((index 0) (token (utt.relation.first utt 'Token)))
    (while token
      (set! index (+ index 1))
      (item.set_feat token "voiceops_token" index)
      (format t "VOICEOPS-DATA token %s\\n" (item.name token))
      (set! token (item.next token))))
  (mapcar
    (lambda (segment)
      (format t "VOICEOPS-DATA segment %s %f %s\\n" (item.name segment) (item.feat segment "end")
        (item.feat segment "R:SylStructure.parent.parent.R:Token.parent.voiceops_token")))
    (utt.relation.items utt 'Segment))
  utt)"""


class FestivalSession:
    """One ``festival --pipe`` process kept for many utterances (its start costs 0.15-0.9 s).

    Each utterance sends ``(utt.save.wave ...)`` and a marker line, and waits for the marker
    on stdout; a missing or empty WAV afterwards is a :class:`SynthesisError`. Lines starting
    with ``DATA`` are output the command asked for; any other printed line is an error.
    """

    MARKER = "VOICEOPS-UTTERANCE-DONE"
    DATA = "VOICEOPS-DATA"  # the prefix of _TIMINGS_SCHEME's lines

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._voice = ""
        self._timings_defined = False

    def _start(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            self.close()
            self._process = subprocess.Popen(
                # line-buffered stdout (stdbuf): festival's own buffering holds the marker back
                [_binary("stdbuf", "coreutils"), "-oL", _binary("festival", "festival"), "--pipe"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
            )
            self._voice = ""
            self._timings_defined = False
        return self._process

    def _send(self, command: str) -> list[str]:
        """Run one Scheme command and return the ``DATA`` lines it printed (prefix removed);
        SynthesisError with Festival's output if it printed anything else."""
        process = self._start()
        assert process.stdin and process.stdout and process.stderr
        process.stdin.write(f'{command}\n(format t "{self.MARKER}\\n")\n')
        process.stdin.flush()
        printed: list[str] = []
        data: list[str] = []
        pending, done = b"", False
        while not done:
            ready, _, _ = select.select([process.stdout, process.stderr], [], [], TIMEOUT_S)
            if process.stderr in ready:  # an error (it may leave Festival waiting: do not wait)
                error = os.read(process.stderr.fileno(), 4096).decode("utf-8", "replace")
                self.close(wait_s=0)
                raise SynthesisError(f"festival failed on {command[:80]!r}: {error.strip()[:300]}")
            # raw reads: a buffered readline could hold lines back from the next select
            chunk = os.read(process.stdout.fileno(), 65536) if ready else b""
            if not chunk:
                self.close(wait_s=0)
                raise SynthesisError(f"festival stopped or hung on {command[:80]!r}")
            *lines, pending = (pending + chunk).split(b"\n")
            for raw in lines:
                line = raw.decode("utf-8", "replace")
                if line.strip() == self.MARKER:
                    done = True
                elif line.startswith(f"{self.DATA} "):
                    data.append(line.removeprefix(f"{self.DATA} "))
                else:
                    printed.append(line.strip())
        if printed:  # a BACKTRACE on stdout
            self.close(wait_s=0)
            raise SynthesisError(f"festival failed on {command[:80]!r}: {' '.join(printed)[:300]}")
        return data

    def wav(self, text: str, voice: str, wav_path: Path) -> Path:
        """Synthesize ``text`` with Festival's ``voice_<voice>`` into ``wav_path``; a failure
        is retried once in a fresh process (a failed utterance can leave Festival's state
        broken for the next ones)."""
        try:
            self._wav(text, voice, wav_path)
        except SynthesisError:
            self.close(wait_s=0)
            self._wav(text, voice, wav_path)
        return wav_path

    def timed_wav(self, text: str, voice: str, wav_path: Path) -> tuple[list[str], list[Segment]]:
        """As :meth:`wav` (the same audio), and the utterance's tokens and phone segments."""
        try:
            lines = self._wav(text, voice, wav_path, timed=True)
        except SynthesisError:
            self.close(wait_s=0)
            lines = self._wav(text, voice, wav_path, timed=True)
        tokens: list[str] = []
        segments: list[Segment] = []
        for line in lines:
            kind, _, rest = line.partition(" ")
            if kind == "token":
                tokens.append(rest)
            else:
                name, end, token = rest.rsplit(" ", 2)
                segments.append((name, float(end), int(token) - 1))
        return tokens, segments

    def _wav(self, text: str, voice: str, wav_path: Path, *, timed: bool = False) -> list[str]:
        if voice != self._voice or self._process is None:
            self._send(f"(voice_{voice})")
            self._voice = voice
        quoted = text.replace("\\", "").replace('"', "").replace("\n", " ")
        utterance = f'(SynthText "{quoted}")'
        if timed:
            if not self._timings_defined:
                self._send(_TIMINGS_SCHEME)
                self._timings_defined = True
            utterance = f"(voiceops_timings {utterance})"
        wav_path.unlink(missing_ok=True)
        lines = self._send(f'(utt.save.wave {utterance} "{wav_path}" (quote riff))')
        if not wav_path.is_file() or wav_path.stat().st_size <= 44:
            raise SynthesisError(f"festival voice {voice!r} wrote no audio for {text[:60]!r}")
        return lines

    def close(self, wait_s: float = 5.0) -> None:
        """Stop the process (end of input, then a kill after ``wait_s``)."""
        process, self._process, self._voice = self._process, None, ""
        if process is None:
            return
        with contextlib.suppress(OSError):
            process.stdin.close()  # type: ignore[union-attr]
        try:
            process.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]


_sessions = threading.local()
_all_sessions: list[FestivalSession] = []
_sessions_lock = threading.Lock()


def _festival_session() -> FestivalSession:
    """This thread's Festival process (closed at interpreter exit)."""
    session = getattr(_sessions, "festival", None)
    if session is None:
        session = _sessions.festival = FestivalSession()
        with _sessions_lock:
            _all_sessions.append(session)
    return session


@atexit.register
def close_festival_sessions() -> None:
    """Stop every Festival process this interpreter started (a later utterance starts one)."""
    with _sessions_lock:
        for session in _all_sessions:
            session.close()


def festival_text(text: str, voice: str) -> str:
    """What Festival's ``voice`` is given to read for ``text`` (the Russian voice: Latin
    spelled in Cyrillic, :func:`russian_readable`)."""
    return russian_readable(text) if voice.startswith("msu_ru") else text


def _festival_wav(text: str, voice: str, folder: Path) -> Path:
    return _festival_session().wav(festival_text(text, voice), voice, folder / "festival.wav")


def _sox_prosody(wav_path: Path, voice: NaturalVoice) -> tuple[np.ndarray, int]:
    """The engine's WAV at the speaker's tempo and pitch (sox), as int16 samples and rate."""
    cmd = [
        _binary("sox", "sox"),
        "-q",
        "-D",
        str(wav_path),
        "-t",
        "wav",
        "-b",
        "16",
        "-c",
        "1",
        "-",
    ]
    cmd += ["tempo", "-s", f"{voice.tempo:.2f}"] if voice.tempo != 1.0 else []
    cmd += ["pitch", str(voice.semitones * 100)] if voice.semitones else []
    data = _run(cmd, "sox prosody")
    return parse_stream_wav(data, "sox")


def natural_raw(text: str, voice: NaturalVoice) -> tuple[np.ndarray, int]:
    """Synthesize ``text`` with a flite or Festival voice at its prosody."""
    with tempfile.TemporaryDirectory(prefix="voiceops-tts-") as tmp:
        make = _flite_wav if voice.engine == "flite" else _festival_wav
        return _sox_prosody(make(text, voice.voice, Path(tmp)), voice)


def synthesize(text: str, speaker_id: str) -> tuple[np.ndarray, float, int]:
    """``(samples int16, gain dB, rate)`` of ``text`` spoken by a synthetic speaker id."""
    if not text.strip():
        raise ValueError("text is empty")
    voice = parse_speaker_id(speaker_id)
    if isinstance(voice, EspeakVoice):
        samples, rate = espeak_raw(text, voice.voice, voice.speed, voice.pitch)
        return samples, 0.0, rate
    samples, rate = natural_raw(text, voice)
    return samples, float(voice.gain_db), rate
