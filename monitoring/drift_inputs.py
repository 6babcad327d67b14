"""What drift is computed from: the champions, their training rows, the production turns.

Per family, the features production turns and the family's mart both have. The turn events
(``experiments.events``) carry the language, the intent, the NLU's confidence and, for audio
turns, the upload's duration and sample rate and the transcript's length in characters: the
STT champion is compared on those with its mart's ``duration_s``, ``sample_rate`` and
transcript (the mart's is redacted: ``<CARD>``, ``<PHONE>``, ``<PERSON>``... in place of
personal data, so lengths differ a little where callers say such data). Text turns never
went through STT: their lengths are left out of the STT comparison. Events written before
these columns existed read them as null and are skipped. Confidence has no training
counterpart (no mart holds the champion's confidence), so it is compared with the production
turns the same NLU champion served before the window.

The training rows are the ``train`` split of the family's mart at the champion's lake
commit: from ``published`` when it is still that build, else from ``repro_<commit>``
(loaded and built by :func:`registry.reproduce.rebuild_commit` the first time).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from core.settings import Settings
from monitoring.drift import Feature
from registry.tracking import client
from registry.versions import CHAMPION, by_alias
from training.families import FAMILIES
from warehouse.schemas import PUBLISHED

LANGUAGE_MIX = Feature("language", "categorical", per_language=False)
INTENTS = Feature("intent", "categorical")
CONFIDENCE = Feature("confidence", "continuous", reference="production")
AUDIO_DURATION = Feature("duration_s", "continuous")
SAMPLE_RATE = Feature("sample_rate", "categorical")
TRANSCRIPT_LENGTH = Feature("transcript_length", "continuous")

#: The features compared per family (only what both the events and the mart hold).
FEATURES: dict[str, tuple[Feature, ...]] = {
    "stt": (LANGUAGE_MIX, AUDIO_DURATION, SAMPLE_RATE, TRANSCRIPT_LENGTH),
    "nlu": (LANGUAGE_MIX, INTENTS, CONFIDENCE),
    "nlg": (LANGUAGE_MIX, INTENTS),
    "tts": (LANGUAGE_MIX,),
}


@dataclass(frozen=True)
class Champion:
    """A family's champion version and the lake commit it was trained on."""

    family: str
    version: str
    lake_commit: str
    registered_at: float


def champions(settings: Settings) -> dict[str, Champion]:
    """The families with a champion that records its lake commit."""
    from monitoring.pipeline.models import registry_exists

    if not registry_exists(settings):
        return {}
    mlflow = client(settings)
    found = {}
    for name, family in FAMILIES.items():
        version = by_alias(mlflow, family.model_name, CHAMPION)
        commit = version.tags.get("lineage.lake_commit") if version is not None else None
        if version is not None and commit:
            found[name] = Champion(
                name, str(version.version), commit, version.creation_timestamp / 1000
            )
    return found


def training_rows(settings: Settings, family: str, commit: str) -> list[dict[str, Any]]:
    """The ``train`` split of the family's mart at lake ``commit``, with the transcript's
    length where the mart has a transcript."""
    return with_transcript_length(
        mart_at_commit(settings, FAMILIES[family].mart, commit, ("train",))
    )


def with_transcript_length(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` with ``transcript_length`` (characters) added to those with a transcript."""
    for row in rows:
        if isinstance(row.get("transcript"), str):
            row["transcript_length"] = len(row["transcript"])
    return rows


def mart_at_commit(
    settings: Settings, mart: str, commit: str, splits: tuple[str, ...]
) -> list[dict[str, Any]]:
    """``splits`` of ``mart`` at lake ``commit``: from ``published`` while it is that build,
    else from ``repro_<commit>`` (built by :func:`registry.reproduce.rebuild_commit` the
    first time)."""
    from registry.reproduce import rebuild_commit
    from training.common.data import StaleDataError, read_mart

    for schema in (PUBLISHED, f"repro_{commit[:12]}"):
        try:
            return read_mart(settings, mart, commit=commit, splits=splits, schema=schema)
        except StaleDataError:
            continue
    schema = rebuild_commit(settings, commit)
    return read_mart(settings, mart, commit=commit, splits=splits, schema=schema)


def production_turns(settings: Settings, since: datetime) -> list[dict[str, Any]]:
    """Served turns (no error, an intent) from ``since`` on, as rows with ``versions`` decoded."""
    from experiments.event_store import EventStore

    with EventStore.from_settings(settings) as store:
        frame = store.read_frame(since=since)
    rows = []
    for event in frame.to_dict("records"):
        if event["kind"] != "turn" or not _missing(event["error"]) or _missing(event["intent"]):
            continue
        audio = event["input_kind"] == "audio"
        rows.append(
            {
                "language": event["language"],
                "intent": event["intent"],
                "confidence": _number(event["confidence"], float),
                "duration_s": _number(event["audio_duration_s"], float),
                "sample_rate": _number(event["audio_sample_rate"], int),
                # a typed text is no STT output: only audio turns' lengths are compared
                "transcript_length": _number(event["transcript_length"], int) if audio else None,
                "occurred_at": event["occurred_at"].to_pydatetime(),
                "versions": json.loads(event["versions"] or "{}"),
            }
        )
    return rows


def _number(value: Any, kind: type) -> Any:
    """``value`` as a plain ``kind`` (None when missing)."""
    return None if _missing(value) else kind(value)


def _missing(value: Any) -> bool:
    """None, NaN, pandas' NA or empty text."""
    if isinstance(value, str):
        return value == ""
    return value is None or bool(pd.isna(value))


def served_by(rows: list[dict[str, Any]], family: str, version: str) -> list[dict[str, Any]]:
    """The turns ``version`` of ``family`` served."""
    return [row for row in rows if str(row["versions"].get(family, "")) == version]
