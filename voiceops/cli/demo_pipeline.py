"""``voiceops demo``: the main pipeline on the embedded defaults, as far as it is built.

First a studio delivery of the voice corpus (read speech for TTS) is dropped beside the
sources; day 1's ingestion lands it. For each simulated day: simulate the contact center,
ingest the day with the Dagster ingestion job (embedded Airbyte connectors, recordings
straight to the lake, one ``ingest-*`` branch per run), then audit it with
``audit_publish_job`` (load into the branch's own warehouse schema, ``dbt build`` with every
test) and publish it to ``main`` only if every check passed. The last demo day plants too
many bad records: its publish is refused. Then the four families train on the published
data and go through the registry gate.

Every outcome the demo reports is checked before it is printed as a result (good days
published, the bad day refused with ``main`` unchanged, every commit of ``main`` a verified
publish of audited data, four champions whose verdicts and lineage hold); when one is false
the demo says which and exits non-zero.
"""

from __future__ import annotations

import time

from rich.table import Table

from core.settings import Settings
from ingestion.simulator.day import write_day
from orchestration.runs import (
    IngestionOutcome,
    PublishOutcome,
    audit_and_publish,
    ingest_day,
    train_models,
)
from training.families import FAMILIES
from versioning.lake import open_lake
from voiceops.cli._lakeargs import current_settings
from voiceops.cli._output import CliError, esc, format_size, say, short_id, stdout_console
from voiceops.cli._progress import stage_progress, training_progress, watching
from voiceops.cli._tensorflow import import_tensorflow, tensorflow_notices_filtered
from voiceops.cli.models import register_trained_models
from warehouse.connection import Warehouse
from warehouse.schemas import MARTS, PUBLISHED, layer_schema


def _ingest(
    day: int, calls: int, seed: int, bad_rate: float, settings: Settings
) -> IngestionOutcome:
    started = time.monotonic()
    with stage_progress(watching()) as progress:
        report = write_day(
            settings.sources_root, day, calls, seed, bad_rate=bad_rate, progress=progress
        )
    say(
        f"[bold cyan]day {day}[/bold cyan] simulated {report.date}: {report.calls} calls "
        f"({format_size(report.bytes_written)}), {len(report.defects)} planted defects "
        f"in {time.monotonic() - started:.1f} s"
    )
    started = time.monotonic()
    outcome = ingest_day(day, open_lake(settings), settings.lake_repository)
    records, rejected = outcome.count("records"), outcome.count("quarantined")
    say(
        f"[bold cyan]day {day}[/bold cyan] ingested in {time.monotonic() - started:.1f} s: "
        f"{sum(records.values())} records, {sum(rejected.values())} quarantined -> "
        f"lakefs://{settings.lake_repository}/{esc(outcome.branch)} @ {short_id(outcome.commit.id)}"
    )
    return outcome


def _voice_corpus(settings: Settings) -> None:
    """Drop the studio delivery of the voice corpus (festvox-ru's train sentences, Festival's
    slt reading the English script) where day 1's ingestion syncs it, unless it is there."""
    from ingestion.voice_corpus.delivery import (
        DELIVERY,
        MANIFEST,
        voice_corpus_root,
        write_delivery,
    )

    directory = voice_corpus_root(settings.sources_root) / DELIVERY
    if (directory / MANIFEST).is_file():
        say(f"[bold]voice corpus[/bold]: delivery {DELIVERY} already dropped")
        return
    report = write_delivery(directory)
    failed = f", {report.failed} the engine could not say" if report.failed else ""
    say(
        f"[bold]voice corpus[/bold]: delivery {DELIVERY} written: {report.utterances['ru']} "
        f"festvox-ru train utterances in {report.seconds['ru']:.0f} s, "
        f"{report.utterances['en']} script sentences read by Festival slt in "
        f"{report.seconds['en']:.0f} s{failed}"
    )


def _publish(day: int) -> PublishOutcome:
    """Audit the day's branch (dbt's own log kept off the screen) and publish it if clean;
    a refusal shows each failed check with dbt's message."""
    started = time.monotonic()
    outcome = audit_and_publish(echo_dbt_log=False)
    verdict = (
        f"[green]published[/green] -> main @ {short_id(outcome.published_commit or '')}"
        if outcome.success
        else "[red]publish refused[/red]: the branch stays for inspection"
        + ("" if outcome.failed_checks else f" ({esc(outcome.failure)})")
    )
    say(
        f"[bold cyan]day {day}[/bold cyan] audit of {esc(outcome.branch)} in "
        f"{time.monotonic() - started:.1f} s: {esc(outcome.summary)}; {verdict}"
    )
    for name, message in list(outcome.failed_messages.items())[:10]:
        say(f"  [red]failed[/red] {esc(name)}: {esc(message)}")
    return outcome


def _mart_rows(settings: Settings) -> dict[str, int]:
    with Warehouse.from_settings(settings) as warehouse:
        schema = layer_schema(PUBLISHED, "marts")
        return {m: warehouse.count(schema, m) for m in MARTS if warehouse.table_exists(schema, m)}


def _publish_claims(
    results: list[tuple[IngestionOutcome, PublishOutcome, bool, str, str]],
) -> list[tuple[str, bool]]:
    """Each day's outcome against what the demo planted: (claim, true?)."""
    claims = []
    for ingestion, outcome, expected, before, after in results:
        if expected:
            ok = outcome.success and outcome.published_commit == after != before
            claims.append((f"day {ingestion.day} published (main moved to its audit)", ok))
        else:
            ok = not outcome.success and bool(outcome.failed_checks) and after == before
            claims.append((f"day {ingestion.day} refused, naming its failed checks, main kept", ok))
    return claims


def pipeline_demo(days: int, calls: int, seed: int, bad_rate: float) -> None:
    """Simulate, ingest, audit and publish ``days`` days, then one day that must be refused."""
    from warehouse.audits import audit_log
    from warehouse.verify import main_problems

    settings = current_settings()
    lake, repository = open_lake(settings), settings.lake_repository
    plan = [(day, calls * 3 if day == 1 else calls, bad_rate) for day in range(1, days + 1)]
    plan.append((days + 1, max(calls // 3, 30), 0.6))  # far too many bad records
    _voice_corpus(settings)  # ingested with day 1, published with it
    results = []
    for day, day_calls, day_bad_rate in plan:
        ingestion = _ingest(day, day_calls, seed, day_bad_rate, settings)
        before = lake.get_branch(repository, "main").commit_id
        outcome = _publish(day)
        after = lake.get_branch(repository, "main").commit_id
        results.append((ingestion, outcome, day_bad_rate < 0.5, before, after))
    table = Table(title="Write-audit-publish")
    for column in ("day", "branch", "records", "quarantined", "checks", "published"):
        table.add_column(column)
    for ingestion, outcome, *_ in results:
        table.add_row(
            str(ingestion.day),
            ingestion.branch,
            str(sum(ingestion.count("records").values())),
            str(sum(ingestion.count("quarantined").values())),
            outcome.summary if len(outcome.summary) < 60 else outcome.summary[:57] + "...",
            short_id(outcome.published_commit) if outcome.published_commit else "refused",
        )
    stdout_console().print(table)
    rows = _mart_rows(settings)
    marts = Table(title=f"Published marts ({settings.dbt_target})")
    marts.add_column("mart")
    marts.add_column("rows", justify="right")
    for mart, count in rows.items():
        marts.add_row(mart, str(count))
    stdout_console().print(marts)
    claims = _publish_claims(results)
    unaudited = main_problems(lake, repository, audit_log(settings))
    main = lake.get_branch(repository, "main").commit_id
    claims.append(
        (f"every commit main held is a verified publish ({short_id(main)})", not unaudited)
    )
    for problem in unaudited:
        say(f"  [red]unaudited[/red] {esc(problem)}")
    claims += _train(settings)
    claims += _serve(settings)
    _conclude(claims)


def _serve(settings: Settings) -> list[tuple[str, bool]]:
    """Start the turn API on the champions and send it simulated turns (checked claims)."""
    from serving.traffic import customers
    from voiceops.cli.demo_serving import serving_demo

    say("[bold]serving[/bold]: the turn API on the champions, turns in both languages")
    return serving_demo(settings, customers(settings.sources_root, 1)[0])


def _conclude(claims: list[tuple[str, bool]]) -> None:
    """Print every claim with its check; exit non-zero when one is false."""
    table = Table(title="What the demo promised, checked")
    table.add_column("claim")
    table.add_column("true")
    for claim, ok in claims:
        table.add_row(esc(claim), "[green]yes[/green]" if ok else "[red]NO[/red]")
    stdout_console().print(table)
    false = [claim for claim, ok in claims if not ok]
    if false:
        raise CliError(f"{len(false)} demo claim(s) are false: {'; '.join(false)}")


def _train(settings: Settings) -> list[tuple[str, bool]]:
    """Train every model family on the published data (kept if unchanged), print metrics,
    register them through the gate; the claims about the champions, checked."""
    training_progress(watching())
    import_tensorflow()
    say(f"training {', '.join(FAMILIES)} on the published data (kept if unchanged) ...")
    started = time.monotonic()
    with tensorflow_notices_filtered():
        models = train_models("demo")
    say(f"trained {', '.join(models)} in {time.monotonic() - started:.0f} s on the published data")
    stdout_console().print(metrics_table(models))
    with tensorflow_notices_filtered():
        register_trained_models()
    return champion_claims(settings, list(models))


def champion_claims(settings: Settings, families: list[str]) -> list[tuple[str, bool]]:
    """Per family: a champion exists, the gate passed it, and its lineage holds now (walked on
    the lake) with its artifact unchanged."""
    from registry.aliases import trusted_verdict
    from registry.errors import RegistryError
    from registry.tracking import client
    from registry.versions import CHAMPION, by_alias
    from training.families import family

    mlflow = client(settings)
    claims = []
    for name in families:
        champion = by_alias(mlflow, family(name).model_name, CHAMPION)
        claim = f"{name}: @champion passed the gate, lineage verified on the lake"
        if champion is None:
            claims.append((f"{claim} (no champion)", False))
            continue
        try:
            verdict = trusted_verdict(settings, champion)
        except RegistryError as error:
            say(f"  [red]{esc(name)}[/red]: {esc(error)}")
            claims.append((claim, False))
            continue
        claims.append((f"{claim} (v{champion.version})", verdict.passed))
    return claims


def metrics_table(models: dict[str, dict]) -> Table:
    """Each family's test-split metrics against its training targets."""
    table = Table(title="Models (test split; training targets)")
    for column in ("family", "lake commit", "retrained", "train s", "metric", "value", "target"):
        table.add_column(column)
    for family, metadata in models.items():
        missed = FAMILIES[family].missed_targets(metadata)
        for i, (name, (op, goal)) in enumerate(FAMILIES[family].targets.items()):
            value = metadata.get(name)
            met = name not in missed
            shown = "-" if value is None else f"{value:.3f}"
            table.add_row(
                family if i == 0 else "",
                short_id(str(metadata.get("lake_commit", ""))) if i == 0 else "",
                str(metadata.get("retrained")) if i == 0 else "",
                str(metadata.get("train_seconds", "")) if i == 0 else "",
                name,
                shown if met else f"[red]{shown}[/red]",
                f"{op} {goal}",
            )
    return table
