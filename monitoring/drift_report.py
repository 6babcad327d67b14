"""The drift report: every champion's scores over a window of production turns, kept as
``<home>/monitoring/drift.json`` (the latest one), where the pipeline metrics and
``voiceops monitor status`` read it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.settings import Settings
from monitoring.drift import MIN_VALUES, DriftScore, feature_scores
from monitoring.drift_inputs import (
    FEATURES,
    Champion,
    champions,
    production_turns,
    served_by,
    training_rows,
)

#: How many windows before the recent one the production-referenced features look back.
REFERENCE_WINDOWS = 7


@dataclass
class DriftReport:
    """Scores per family, with the champion each family was compared against."""

    computed_at: float
    window_start: str
    production_turns: int
    champions: dict[str, dict[str, Any]] = field(default_factory=dict)
    scores: list[DriftScore] = field(default_factory=list)
    #: the NLU champion's embedding drift: new utterances, novel examples, or why none
    embedding: dict[str, Any] = field(default_factory=dict)

    def family_scores(self, family: str) -> list[DriftScore]:
        return [score for score in self.scores if score.family == family]

    def drifted_families(self) -> list[str]:
        return sorted({score.family for score in self.scores if score.drifted})

    def to_dict(self) -> dict[str, Any]:
        return {
            "computed_at": self.computed_at,
            "window_start": self.window_start,
            "production_turns": self.production_turns,
            "champions": self.champions,
            "scores": [score.to_dict() for score in self.scores],
            "embedding": self.embedding,
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DriftReport:
        return cls(
            values["computed_at"],
            values["window_start"],
            values["production_turns"],
            values.get("champions", {}),
            [DriftScore.from_dict(score) for score in values.get("scores", [])],
            values.get("embedding", {}),
        )


def family_drift(
    champion: Champion,
    reference: list[dict[str, Any]],
    turns: list[dict[str, Any]],
    earlier_turns: list[dict[str, Any]],
    *,
    min_values: int = MIN_VALUES,
) -> list[DriftScore]:
    """One family's scores: training-referenced features against ``reference`` rows,
    production-referenced ones against the turns its champion served before the window."""
    scores = []
    for feature in FEATURES[champion.family]:
        if feature.reference == "production":
            before = served_by(earlier_turns, champion.family, champion.version)
            recent = served_by(turns, champion.family, champion.version)
            scores += feature_scores(
                champion.family, feature, before, recent, min_values=min_values
            )
        else:
            scores += feature_scores(
                champion.family, feature, reference, turns, min_values=min_values
            )
    return scores


def compute_drift(
    settings: Settings,
    window: timedelta,
    *,
    now: datetime | None = None,
    min_values: int = MIN_VALUES,
) -> DriftReport:
    """Every champion against the production turns of the last ``window``."""
    now = now or datetime.now(UTC)
    start = now - window
    turns = production_turns(settings, start - REFERENCE_WINDOWS * window)
    recent = [turn for turn in turns if turn["occurred_at"] >= start]
    earlier = [turn for turn in turns if turn["occurred_at"] < start]
    report = DriftReport(now.timestamp(), start.isoformat(), len(recent))
    for name, champion in champions(settings).items():
        report.champions[name] = {
            "version": champion.version,
            "lake_commit": champion.lake_commit,
            "registered_at": champion.registered_at,
        }
        rows = training_rows(settings, name, champion.lake_commit)
        report.scores += family_drift(champion, rows, recent, earlier, min_values=min_values)
        if name == "nlu":
            from monitoring.vectors.drift_scores import embedding_drift

            scores, report.embedding = embedding_drift(
                settings, champion.version, champion.lake_commit, min_values=min_values
            )
            report.scores += scores
    return report


def report_path(settings: Settings) -> Path:
    return Path(settings.home) / "monitoring" / "drift.json"


def save_report(settings: Settings, report: DriftReport) -> Path:
    """Replace the latest report (atomically: a reader never sees half of it)."""
    path = report_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(report.to_dict(), indent=1, sort_keys=True), "utf-8")
    temporary.replace(path)
    return path


def latest_report(settings: Settings) -> DriftReport | None:
    """The latest saved report (None before the first)."""
    path = report_path(settings)
    if not path.is_file():
        return None
    return DriftReport.from_dict(json.loads(path.read_text("utf-8")))
