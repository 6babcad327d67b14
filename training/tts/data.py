"""Rows of the ``tts_examples`` mart -> aligned examples (symbols, durations, log-mel) -> batches.

Audio is read from the lake at each row's ``audio_lake_commit`` + ``audio_path`` (or from a
local ``wav_file`` for synthetic rows). Durations come from re-running espeak-ng with the
row's speaker settings (:mod:`training.tts.durations`); natural voices (flite, Festival) are
aligned with their engine's own timings (:mod:`training.tts.natural_durations`) when the
config's ``natural_voices`` is on, real speech (festvox-ru) with its shipped phone labels
(:mod:`training.tts.recorded_durations`) when ``real_speech`` is on; otherwise they are left
out. Rows that cannot be aligned are left out of training and of the mel/duration metrics,
counted by reason (``Examples.skipped``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from math import gcd
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from scipy.signal import resample_poly

from core.sealing import Sealer
from core.settings import Settings
from core.voices import NATURAL_VOICES, parse_espeak_id, speaker_engine
from training.common.audio import decode_wav
from training.common.data import read_mart
from training.tts.config import TTSConfig
from training.tts.durations import espeak_durations_many
from training.tts.features import SILENCE, MelSpec, peak_normalize
from training.tts.natural_durations import natural_durations_many
from training.tts.recorded_durations import REAL_SPEAKER_PREFIX, recorded_durations
from training.tts.speakers import SpeakerParser
from training.tts.text import TextEncoder, normalize
from warehouse.schemas import PUBLISHED

log = logging.getLogger(__name__)

MART = "tts_examples"
#: The ``source`` of the mart's voice-corpus rows (the others are ``calls``).
VOICE_CORPUS = "voice_corpus"


def load_rows(
    settings: Settings, commit: str | None = None, *, schema: str = PUBLISHED
) -> list[dict[str, Any]]:
    """The mart's rows (example_id, source, text, language, audio_path, speaker, split, ...)
    at ``commit``: calls and voice-corpus utterances alike."""
    return read_mart(settings, MART, commit=commit, schema=schema)


def example_keys(rows: list[dict[str, Any]]) -> list[str]:
    """Each row's id: ``example_id`` (a call id or a voice-corpus utterance id), ``call_id``
    on marts published before the mart had both sources, ``row-<index>`` without either."""
    return [
        str(row.get("example_id") or row.get("call_id") or f"row-{i}") for i, row in enumerate(rows)
    ]


def split_rows(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows grouped by their ``split`` column."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["split"], []).append(row)
    return groups


def is_corpus_row(row: dict[str, Any]) -> bool:
    """Whether a mart row is a voice-corpus utterance (``source``), not a call's."""
    return row.get("source") == VOICE_CORPUS


def scored_splits(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The rows a TTS is scored on, by split: the calls' (what the bot says to callers, on
    the voices and lines of calls); voice-corpus rows are training material only, so every
    version is scored on the same kind of rows (``Family.test_splits`` reads this)."""
    return split_rows([row for row in rows if not is_corpus_row(row)])


def training_splits(
    rows: list[dict[str, Any]], config: TTSConfig
) -> dict[str, list[dict[str, Any]]]:
    """:func:`scored_splits`, with the voice corpus's ``train`` rows added to ``train`` when
    the config's ``voice_corpus`` is on (a corpus sentence equal to a call's test text is in
    ``test`` by the mart's split rule, so it is never trained on)."""
    splits = scored_splits(rows)
    if config.voice_corpus:
        corpus = [row for row in rows if is_corpus_row(row) and row["split"] == "train"]
        if corpus:
            splits.setdefault("train", []).extend(corpus)
    return splits


def resample(waveform: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Polyphase resampling (identity when the rates match)."""
    if rate == target:
        return np.asarray(waveform, np.float32)
    g = gcd(rate, target)
    return resample_poly(waveform, target // g, rate // g).astype(np.float32)


def read_audio(
    row: dict[str, Any], lake: Any = None, repository: str = "", sealer: Sealer | None = None
) -> bytes | None:
    """The recording's bytes: a local ``wav_file`` or the lake object at its commit, opened
    with ``sealer`` when it is sealed; None when it was erased (sealed under a destroyed key)."""
    if row.get("wav_file"):
        return Path(row["wav_file"]).read_bytes()
    if lake is None:
        raise ValueError(
            f"row {row.get('example_id') or row.get('call_id')} needs the lake to read "
            f"{row['audio_path']}"
        )
    data = lake.read_bytes(repository, row["audio_lake_commit"], row["audio_path"])
    if sealer is None:
        from core.sealing.codec import is_sealed_blob

        if is_sealed_blob(data):
            raise ValueError(f"{row['audio_path']} is sealed: pass the sealer to open it")
        return data
    return sealer.open_blob(data)


def attach_audio(rows: list[dict[str, Any]], settings: Settings | None = None) -> list[np.ndarray]:
    """Waveform and rate of every row (the lake is opened only when a row needs it).

    Rows whose recording was erased are removed from ``rows`` (in place, so the list stays
    aligned with the waveforms returned) and logged."""
    lake, repository, sealer = None, "", None
    if any(not row.get("wav_file") for row in rows):
        from core.settings import get_settings
        from versioning.lake.factory import open_lake

        settings = settings or get_settings()
        lake, repository = open_lake(settings), settings.lake_repository
        sealer = Sealer.from_settings(settings)
    audio, kept = [], []
    for row in rows:
        data = read_audio(row, lake, repository, sealer)
        if data is not None:
            kept.append(row)
            audio.append(decode_wav(data))
    if len(kept) < len(rows):
        log.warning("%d row(s) left out: their recordings were erased", len(rows) - len(kept))
        rows[:] = kept
    return audio


@dataclass
class Examples:
    """Aligned utterances of one split, ready for batching and scoring."""

    texts: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)
    durations: list[np.ndarray] = field(default_factory=list)  # [len(text) + 2] int32
    mels: list[np.ndarray] = field(default_factory=list)  # [frames, n_mels] float32
    skipped: Counter[str] = field(default_factory=Counter)
    keys: list[str] = field(default_factory=list)  # each aligned row's ``example_id``

    def __len__(self) -> int:
        return len(self.texts)


#: An aligned row: the row, its frame durations and its waveform at the config's rate.
Aligned = tuple[dict[str, Any], np.ndarray, np.ndarray]


def prepare(
    rows: list[dict[str, Any]], config: TTSConfig, audio: list[tuple[np.ndarray, int]]
) -> Examples:
    """Align each row by its speaker (espeak-ng voices with espeak's events, flite and Festival
    voices with their engine's timings, real recordings with their phone labels) and take the
    log-mel of its recording."""
    spec = MelSpec(
        config.sample_rate, config.n_fft, config.hop, config.n_mels, config.fmin, config.fmax
    )
    out = Examples()
    keys = {id(row): key for row, key in zip(rows, example_keys(rows), strict=True)}
    espeak, natural, recorded = [], [], []
    for row, (waveform, rate) in zip(rows, audio, strict=True):
        text, speaker = row["text"], row["speaker"]
        waveform = resample(waveform, rate, config.sample_rate)
        if len(normalize(text)) != len(text) or len(text) > config.max_chars:
            out.skipped["text too long or changes length"] += 1
        elif speaker.startswith(REAL_SPEAKER_PREFIX):
            if config.real_speech:
                recorded.append((row, waveform))
            else:
                out.skipped["real speech not enabled"] += 1
        elif speaker_engine(speaker) in NATURAL_VOICES:
            if config.natural_voices:
                natural.append((row, waveform))
            else:
                out.skipped["natural voices not enabled"] += 1
        else:
            espeak.append((row, waveform))
    aligned = [
        *_espeak_aligned(espeak, config, out.skipped),
        *_natural_aligned(natural, config, out.skipped),
        *_recorded_aligned(recorded, config, out.skipped),
    ]
    for row, durations, waveform in aligned:
        _add(out, row, keys[id(row)], durations, waveform, spec, config)
    if out.skipped:
        log.info("left out of alignment: %s", dict(out.skipped))
    return out


def _fit(waveform: np.ndarray, n: int) -> np.ndarray:
    """``waveform`` cut or zero-padded to ``n`` samples."""
    return np.pad(waveform[:n], (0, max(0, n - len(waveform))))


def _espeak_aligned(
    rows: list[tuple[dict[str, Any], np.ndarray]], config: TTSConfig, skipped: Counter[str]
) -> list[Aligned]:
    """espeak-ng rows with the durations of a fresh espeak-ng's events."""
    items, kept = [], []
    for row, waveform in rows:
        try:
            voice = parse_espeak_id(row["speaker"])
        except ValueError:
            skipped["speaker id of no known engine"] += 1
            continue
        items.append((row["text"], voice.voice, voice.speed, voice.pitch))
        kept.append((row, waveform))
    timings = espeak_durations_many(items, config.sample_rate, config.hop)
    aligned = []
    for (row, waveform), timing in zip(kept, timings, strict=True):
        if timing is None:
            skipped["espeak-ng does not know the voice"] += 1
            continue
        durations, n = timing
        if abs(len(waveform) - n) > config.hop:
            skipped["recording does not match espeak's timing"] += 1
            continue
        aligned.append((row, durations, _fit(waveform, n)))
    return aligned


def _natural_aligned(
    rows: list[tuple[dict[str, Any], np.ndarray]], config: TTSConfig, skipped: Counter[str]
) -> list[Aligned]:
    """flite and Festival rows with the durations of their engine's own timings."""
    items = [(row["text"], row["speaker"], len(waveform)) for row, waveform in rows]
    aligned = []
    timings = natural_durations_many(items, config.sample_rate, config.hop)
    for (row, waveform), timing in zip(rows, timings, strict=True):
        if isinstance(timing, str):  # the reason it was not aligned
            skipped[timing] += 1
            continue
        durations, n = timing
        aligned.append((row, durations, _fit(waveform, n)))
    return aligned


def _recorded_aligned(
    rows: list[tuple[dict[str, Any], np.ndarray]], config: TTSConfig, skipped: Counter[str]
) -> list[Aligned]:
    """Real recordings with the durations of their phone labels."""
    aligned = []
    for row, waveform in rows:
        durations = recorded_durations(
            row["text"], row["speaker"], len(waveform), config.sample_rate, config.hop
        )
        if durations is None:
            skipped["phone labels missing or not matching the text"] += 1
            continue
        aligned.append((row, durations, waveform))
    return aligned


def _add(
    out: Examples,
    row: dict[str, Any],
    key: str,
    durations: np.ndarray,
    waveform: np.ndarray,
    spec: MelSpec,
    config: TTSConfig,
) -> None:
    """Append one aligned utterance: its durations and the floored log-mel of ``waveform``."""
    mel = spec.log_mel(tf.constant(peak_normalize(waveform)[None, :]))[0].numpy()
    out.texts.append(row["text"])
    out.languages.append(row["language"])
    out.speakers.append(row["speaker"])
    out.durations.append(durations)
    out.mels.append(np.maximum(mel, config.mel_floor))
    out.keys.append(key)


def model_inputs(
    texts: list[str],
    languages: list[str],
    speakers: list[str],
    encoder: TextEncoder,
    parser: SpeakerParser,
) -> dict[str, np.ndarray]:
    """Symbol ids, language ids and speaker features, as the serving graph computes them."""
    variant, accent, prosody = parser(tf.constant(speakers))
    return {
        "chars": encoder(tf.constant(texts)).numpy(),
        "language": encoder.languages(tf.constant(languages)).numpy(),
        "variant": variant.numpy(),
        "accent": accent.numpy(),
        "prosody": prosody.numpy(),
    }


def dataset(
    examples: Examples, config: TTSConfig, *, shuffle_seed: int | None = None
) -> tf.data.Dataset:
    """Batches ``({chars, language, variant, accent, prosody, durations}, mel)``.

    Utterances of similar length are batched together (less padding); with ``shuffle_seed``
    the batch order changes every epoch, deterministically.
    """
    inputs = model_inputs(
        examples.texts,
        examples.languages,
        examples.speakers,
        TextEncoder(config.max_chars),
        SpeakerParser(),
    )
    order = np.argsort([len(m) for m in examples.mels], kind="stable")
    batches = [order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size)]
    rng = np.random.default_rng(shuffle_seed)

    def generate() -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
        picks = rng.permutation(len(batches)) if shuffle_seed is not None else range(len(batches))
        for b in picks:
            idx = batches[b]
            width = max(len(examples.durations[i]) for i in idx)
            frames = max(len(examples.mels[i]) for i in idx)
            durations = np.zeros((len(idx), width), np.int32)
            mel = np.full((len(idx), frames, config.n_mels), SILENCE, np.float32)
            for j, i in enumerate(idx):
                durations[j, : len(examples.durations[i])] = examples.durations[i]
                mel[j, : len(examples.mels[i])] = examples.mels[i]
            batch = {k: v[idx] for k, v in inputs.items()}
            batch["chars"] = batch["chars"][:, :width]
            yield batch | {"durations": durations}, mel

    signature = (
        {
            "chars": tf.TensorSpec([None, None], tf.int32),
            "language": tf.TensorSpec([None], tf.int32),
            "variant": tf.TensorSpec([None], tf.int32),
            "accent": tf.TensorSpec([None], tf.int32),
            "prosody": tf.TensorSpec([None, 2], tf.float32),
            "durations": tf.TensorSpec([None, None], tf.int32),
        },
        tf.TensorSpec([None, None, config.n_mels], tf.float32),
    )
    ds = tf.data.Dataset.from_generator(generate, output_signature=signature)
    return ds.apply(tf.data.experimental.assert_cardinality(len(batches)))
