"""``voiceops demo``: the main pipeline on the embedded defaults, as far as it is built.

Simulates contact-center days and ingests each one with the Dagster ingestion job: Airbyte
connectors (embedded) sync the CRM API and the call exports, recordings go straight to the
lake, every run lands on its own ``ingest-*`` branch with quarantine and one commit.
Day 2 shows the incremental sync: only CRM rows created or updated since day 1 are pulled.
"""

from __future__ import annotations

import time

from rich.table import Table

from ingestion.simulator.day import write_day
from versioning.lake import open_lake
from voiceops.cli._lakeargs import current_settings
from voiceops.cli._output import esc, format_size, say, short_id, stdout_console
from voiceops.pipeline import IngestionOutcome, ingest_day


def _landed_table(outcomes: list[IngestionOutcome], repository: str) -> Table:
    table = Table(title="What landed where (not published: the warehouse audits it next)")
    for column in ("day", "branch", "commit", "stream", "records", "quarantined"):
        table.add_column(
            column, justify="right" if column in {"records", "quarantined"} else "left"
        )
    for outcome in outcomes:
        records, rejected = outcome.count("records"), outcome.count("quarantined")
        for i, stream in enumerate(sorted(records)):
            first = i == 0
            table.add_row(
                str(outcome.day) if first else "",
                f"lakefs://{repository}/{outcome.branch}" if first else "",
                short_id(outcome.commit.id) if first else "",
                stream,
                str(records[stream]),
                str(rejected.get(stream, 0)),
            )
    return table


def pipeline_demo(days: int, calls: int, seed: int, bad_rate: float) -> None:
    """Simulate days of the contact center and ingest them into ingest-* lake branches."""
    settings = current_settings()
    lake = open_lake(settings)
    repository = settings.lake_repository
    outcomes: list[IngestionOutcome] = []
    for day in range(1, days + 1):
        started = time.monotonic()
        report = write_day(settings.sources_root, day, calls, seed, bad_rate=bad_rate)
        say(
            f"[bold cyan]day {day}[/bold cyan] simulated {report.date}: {report.calls} calls "
            f"({format_size(report.bytes_written)}), {len(report.defects)} planted defects, "
            f"CRM {report.crm} in {time.monotonic() - started:.1f} s"
        )
        started = time.monotonic()
        outcome = ingest_day(day, lake, repository)
        records, rejected = outcome.count("records"), outcome.count("quarantined")
        say(
            f"[bold cyan]day {day}[/bold cyan] ingested by Dagster run {outcome.run_id[:8]} in "
            f"{time.monotonic() - started:.1f} s: {sum(records.values())} records, "
            f"{sum(rejected.values())} quarantined -> lakefs://{repository}/{esc(outcome.branch)} "
            f"@ {short_id(outcome.commit.id)}"
        )
        outcomes.append(outcome)
    stdout_console().print(_landed_table(outcomes, repository))
    if len(outcomes) > 1:
        first, last = outcomes[0].count("records"), outcomes[-1].count("records")
        say(
            "incremental: CRM customers pulled on day 1 / day "
            f"{outcomes[-1].day}: {first.get('crm.customers', 0)} / "
            f"{last.get('crm.customers', 0)} (only rows created or updated since the last sync)"
        )
    say(f"commit metadata: voiceops lake show lakefs://{repository}/{outcomes[-1].branch}")
