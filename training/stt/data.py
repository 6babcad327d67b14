"""Rows of the ``stt_examples`` mart with their audio, and the rules for which rows are used.

Audio is read from the lake at each row's ``audio_lake_commit`` + ``audio_path`` and opened
with the subject key store (``core.sealing``); a recording sealed under a destroyed key (an
erased customer's call) is noise: its row is dropped, counted and logged.

Which rows: a row whose transcript was redacted (``transcript_was_redacted``) is left out of
*every* split, because its placeholder (``<PHONE>``, ``<PERSON>``...) stands for words the
audio does say; scoring it would count a correct transcription as an error and training on
it would teach the model to skip speech. Rows whose normalized transcript is empty are left
out too. :func:`prepare` applies both rules the same way to training and test splits.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.sealing import Sealer
from core.settings import Settings
from training.common.audio import decode_wav, resample_fft
from training.common.data import read_mart
from training.common.example_stats import row_keys
from training.stt.features import MODEL_RATE
from training.stt.text import encode, normalize
from warehouse.schemas import PUBLISHED

MART = "stt_examples"
log = logging.getLogger(__name__)


def attach_audio(rows: list[dict[str, Any]], settings: Settings) -> list[dict[str, Any]]:
    """Set ``audio`` (float32) and ``audio_rate`` on rows lacking them, read from the lake.

    Rows whose recording was erased (sealed under a destroyed key) are removed from ``rows``
    (in place, so callers holding the list see it) and logged."""
    missing = [row for row in rows if "audio" not in row]
    if not missing:
        return rows
    from versioning.lake import open_lake

    lake, sealer = open_lake(settings), Sealer.from_settings(settings)
    erased = set()
    for row in missing:
        data = sealer.open_blob(
            lake.read_bytes(settings.lake_repository, row["audio_lake_commit"], row["audio_path"])
        )
        if data is None:
            erased.add(id(row))
            continue
        row["audio"], row["audio_rate"] = decode_wav(data)
    if erased:
        rows[:] = [row for row in rows if id(row) not in erased]
        log.warning("%d row(s) of %s left out: their recordings were erased", len(erased), MART)
    return rows


def load_rows(
    settings: Settings,
    commit: str | None = None,
    *,
    with_audio: bool = True,
    schema: str = PUBLISHED,
) -> list[dict[str, Any]]:
    """The mart's rows at ``commit``, each with its ``audio`` waveform and ``audio_rate``."""
    rows = read_mart(settings, MART, commit=commit, schema=schema)
    return attach_audio(rows, settings) if with_audio else rows


def to_model_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    """``samples`` at ``rate`` -> float32 at MODEL_RATE (band-limited FFT resampling)."""
    return resample_fft(samples, rate, MODEL_RATE)


@dataclass
class Prepared:
    """Usable rows of one split: 8 kHz waveforms, normalized references, label ids."""

    waveforms: list[np.ndarray] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    labels: list[list[int]] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    real: list[bool] = field(default_factory=list)  # each kept row's ``is_real_speech``
    excluded: Counter[str] = field(default_factory=Counter)  # reason -> rows left out
    keys: list[str] = field(default_factory=list)  # each kept row's ``call_id``

    @property
    def seconds(self) -> float:
        return sum(len(w) for w in self.waveforms) / MODEL_RATE


def prepare(rows: list[dict[str, Any]]) -> Prepared:
    """Apply the selection rule and normalize; reads audio from the lake when missing."""
    data = Prepared()
    if any("audio" not in row for row in rows):
        from core.settings import get_settings

        before = len(rows)
        attach_audio(rows, get_settings())
        if len(rows) < before:
            data.excluded["erased"] += before - len(rows)
    for row, key in zip(rows, row_keys(rows, "call_id"), strict=True):
        if row.get("transcript_was_redacted"):
            data.excluded["redacted"] += 1
            continue
        reference = normalize(row.get("transcript") or "", row["language"])
        if not reference:
            data.excluded["empty"] += 1
            continue
        data.waveforms.append(to_model_rate(row["audio"], int(row["audio_rate"])))
        data.references.append(reference)
        data.labels.append(encode(reference))
        data.languages.append(row["language"])
        data.real.append(bool(row.get("is_real_speech")))
        data.keys.append(key)
    return data


def split_rows(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows grouped by their ``split`` column."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["split"], []).append(row)
    return groups
