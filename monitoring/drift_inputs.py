"""What drift is computed from: the champions, their training rows, the production turns.

Per family, the features production turns and the family's mart both have. The turn events
(``experiments.events``) carry the language, the intent and the NLU's confidence, not the
audio duration, the sample rate or the transcript: those are in the STT mart but no event
records them, so they cannot be compared yet. Confidence has no training counterpart (no
mart holds the champion's confidence), so it is compared with the production turns the same
NLU champion served before the window.

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

LANGUAGE_MIX = Feature("language", "categorical", per_language=False)
INTENTS = Feature("intent", "categorical")
CONFIDENCE = Feature("confidence", "continuous", reference="production")

#: The features compared per family (only what both the events and the mart hold).
FEATURES: dict[str, tuple[Feature, ...]] = {
    "stt": (LANGUAGE_MIX,),
    "nlu": (LANGUAGE_MIX, INTENTS, CONFIDENCE),
    "nlg": (LANGUAGE_MIX, INTENTS),
    "tts": (LANGUAGE_MIX,),
}
#: In the issue's list but in no event: not compared until the API records them.
NOT_IN_EVENTS = ("duration_s", "sample_rate", "transcript_length")


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
    """The ``train`` split of the family's mart at lake ``commit``."""
    from registry.reproduce import rebuild_commit
    from training.common.data import StaleDataError, read_mart

    mart = FAMILIES[family].mart
    try:
        return read_mart(settings, mart, commit=commit, splits=("train",))
    except StaleDataError:
        pass
    try:
        return read_mart(settings, mart, commit=commit, splits=("train",), schema=_repro(commit))
    except StaleDataError:
        schema = rebuild_commit(settings, commit)
        return read_mart(settings, mart, commit=commit, splits=("train",), schema=schema)


def _repro(commit: str) -> str:
    return f"repro_{commit[:12]}"


def production_turns(settings: Settings, since: datetime) -> list[dict[str, Any]]:
    """Served turns (no error, an intent) from ``since`` on, as rows with ``versions`` decoded."""
    from experiments.event_store import EventStore

    with EventStore.from_settings(settings) as store:
        frame = store.read_frame(since=since)
    rows = []
    for event in frame.to_dict("records"):
        if event["kind"] != "turn" or not _missing(event["error"]) or _missing(event["intent"]):
            continue
        rows.append(
            {
                "language": event["language"],
                "intent": event["intent"],
                "confidence": None if _missing(event["confidence"]) else event["confidence"],
                "occurred_at": event["occurred_at"].to_pydatetime(),
                "versions": json.loads(event["versions"] or "{}"),
            }
        )
    return rows


def _missing(value: Any) -> bool:
    """None, NaN, pandas' NA or empty text."""
    if isinstance(value, str):
        return value == ""
    return value is None or bool(pd.isna(value))


def served_by(rows: list[dict[str, Any]], family: str, version: str) -> list[dict[str, Any]]:
    """The turns ``version`` of ``family`` served."""
    return [row for row in rows if str(row["versions"].get(family, "")) == version]
