"""Lake metrics: the last publish per repository, and the newest ingestion's record counts.

A publish is a merge into a repository's default branch with ``voiceops.kind=publish``; an
ingestion is a commit with ``voiceops.kind=ingestion`` whose metadata counts every stream's
accepted (``records.<source>.<stream>``) and quarantined (``quarantined.<source>.<stream>``)
records.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily, Metric

from core.settings import Settings
from versioning.lake import Commit, Lake, NotFoundError, open_lake
from warehouse.guard import KIND, PUBLISH

INGESTION = "ingestion"
#: How far back the default branch's history is searched (a publish is normally its head).
HISTORY_DEPTH = 500


def last_publish(lake: Lake, repository: str) -> Commit | None:
    """The newest publish merge on ``repository``'s default branch (None: never published)."""
    default = lake.get_repository(repository).default_branch
    for commit in lake.log(repository, default, amount=HISTORY_DEPTH):
        if commit.metadata.get(KIND) == PUBLISH:
            return commit
    return None


@dataclass(frozen=True)
class SourceCounts:
    """One source's records in the newest ingestion commit that landed it."""

    source: str
    commit: str
    accepted: int
    quarantined: int

    @property
    def quarantined_ratio(self) -> float:
        total = self.accepted + self.quarantined
        return self.quarantined / total if total else 0.0


def ingestion_commits(lake: Lake, repository: str) -> list[Commit]:
    """Ingestion commits on ``ingest-*`` branch heads and in the default branch's history,
    newest first."""
    default = lake.get_repository(repository).default_branch
    found = {c.id: c for c in lake.log(repository, default, amount=HISTORY_DEPTH)}
    for branch in lake.list_branches(repository):
        if branch.id.startswith("ingest-") and branch.commit_id not in found:
            found[branch.commit_id] = lake.get_commit(repository, branch.commit_id)
    ingested = [c for c in found.values() if c.metadata.get(KIND) == INGESTION]
    return sorted(ingested, key=lambda c: c.creation_date, reverse=True)


def _counts(commit: Commit, kind: str) -> dict[str, int]:
    """``records`` or ``quarantined`` counts of ``commit``, summed per source."""
    counts: dict[str, int] = {}
    for key, value in commit.metadata.items():
        if key.startswith(kind + "."):
            source = key[len(kind) + 1 :].split(".")[0]
            counts[source] = counts.get(source, 0) + int(value)
    return counts


def newest_source_counts(lake: Lake, repository: str) -> list[SourceCounts]:
    """Each source's counts in the newest ingestion commit that holds it."""
    newest: dict[str, SourceCounts] = {}
    for commit in ingestion_commits(lake, repository):
        accepted, quarantined = _counts(commit, "records"), _counts(commit, "quarantined")
        for source in sorted(set(accepted) | set(quarantined)):
            if source not in newest:
                newest[source] = SourceCounts(
                    source, commit.id, accepted.get(source, 0), quarantined.get(source, 0)
                )
    return [newest[source] for source in sorted(newest)]


def lake_metrics(settings: Settings) -> Iterator[Metric]:
    """``voiceops_lake_*`` (every repository) and ``voiceops_ingest_*`` (the pipeline's)."""
    lake = open_lake(settings)
    timestamp = GaugeMetricFamily(
        "voiceops_lake_last_publish_timestamp_seconds",
        "When the newest publish merge landed on the repository's default branch.",
        labels=["repository"],
    )
    info = GaugeMetricFamily(
        "voiceops_lake_publish_info",
        "1 for the commit of the repository's newest publish.",
        labels=["repository", "commit"],
    )
    for repository in lake.list_repositories():
        commit = last_publish(lake, repository.id)
        if commit is not None:
            timestamp.add_metric([repository.id], commit.creation_date)
            info.add_metric([repository.id, commit.id], 1)
    ratio = GaugeMetricFamily(
        "voiceops_ingest_quarantined_ratio",
        "Share of the source's records its newest ingestion quarantined.",
        labels=["source"],
    )
    records = GaugeMetricFamily(
        "voiceops_ingest_records",
        "Records of the source's newest ingestion, accepted or quarantined.",
        labels=["source", "outcome"],
    )
    try:
        counts = newest_source_counts(lake, settings.lake_repository)
    except NotFoundError:
        counts = []  # nothing ingested yet
    for source in counts:
        ratio.add_metric([source.source], source.quarantined_ratio)
        records.add_metric([source.source, "accepted"], source.accepted)
        records.add_metric([source.source, "quarantined"], source.quarantined)
    yield from (timestamp, info, ratio, records)
