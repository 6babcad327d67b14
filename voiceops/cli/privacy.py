"""``voiceops privacy``: personal data in the platform's text.

voiceops privacy eval [--n N] [--seed S] [--variants]   # PII detection: precision / recall
voiceops privacy retention [--dry-run] [--json]   # remove what each layer kept too long
voiceops privacy find --customer ID [--json] [--expect-none]   # a data subject in every layer
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # the CLI imports a command's modules only when it runs
    from governance.subject_search import SearchReport

privacy_app = typer.Typer(
    help="Personal data: how well the detector finds it (precision / recall per kind), "
    "and how long each layer keeps it (retention).",
    no_args_is_help=True,
)


@privacy_app.command("eval")
def eval_cmd(
    n: Annotated[int, typer.Option("--n", min=1, help="Examples to generate.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the labelled set.")] = 0,
    variants: Annotated[
        bool,
        typer.Option(
            "--variants", help="Plant values in formats the call simulator does not write."
        ),
    ] = False,
) -> None:
    """Precision and recall of core.pii_detect on the simulator's labelled set, per kind and
    language, as a Markdown table."""
    from core.pii_scores import score
    from ingestion.simulator.pii_labelled import labelled_set

    rows = score(labelled_set(n, seed, variants))
    formats = "other formats" if variants else "the simulator's formats"
    print(f"PII detection on {n} generated examples (seed {seed}, {formats})\n")
    print("| kind | language | gold | found | precision | recall |")
    print("|---|---|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row.kind} | {row.language} | {row.gold} | {row.found} "
            f"| {row.precision:.3f} | {row.recall:.3f} |"
        )


@privacy_app.command("retention")
def retention_cmd(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what is past its days; remove nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
) -> None:
    """Remove what each layer has kept longer than the retention policy allows (audit
    schemas, ingest branches, experiment events, connector logs)."""
    import json

    from core.settings import Settings
    from governance.retention import enforce

    report = enforce(Settings(), dry_run=dry_run)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
        return
    verb = "would remove" if dry_run else "removed"
    for layer, count in report.counts().items():
        print(f"{layer:<16} {verb} {count:>4}  (policy: {report.policy[layer]:g} days)")
    for item in report.removed:
        print(f"  - {item.layer}: {item.name} ({item.age_days:g} days old) {item.detail}")
    for item in report.kept:
        print(f"  kept {item.layer}: {item.name} ({item.detail})")


@privacy_app.command("find")
def find_cmd(
    customer: Annotated[str, typer.Option("--customer", help="The CRM customer id.")],
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
    expect_none: Annotated[
        bool,
        typer.Option(
            "--expect-none",
            help="Exit 1 when anything is found (how an erasure proves itself).",
        ),
    ] = False,
) -> None:
    """Where a customer's identifiers (CRM id, pseudonym key, name, phone, email, passport)
    occur: every lake ref and commit, every warehouse schema, the experiment events, the
    simulator's sources and the connector logs. Exits 0 (it is a search) unless
    ``--expect-none`` is given and something is found."""
    import json

    from core.settings import Settings
    from governance.subject_search import search

    report = search(Settings(), customer)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_search(report)
    if expect_none and report.total():
        raise typer.Exit(1)


def _print_search(report: SearchReport) -> None:
    record = f"CRM record from {report.record_from}" if report.record_from else "no CRM record"
    print(f"customer {report.customer_id} ({record}; searched: {', '.join(report.kinds)})")
    for layer, count in report.counts().items():
        print(f"{layer:<16} {count:>6}  ({report.scanned.get(layer, 'not scanned')})")
    print(f"{'total':<16} {report.total():>6}  ({report.seconds:g} s)\n")
    if report.findings:
        print("| layer | where | identifier | count | refs | commits |")
        print("|---|---|---|---:|---|---:|")
    for item in report.findings:
        refs = ", ".join(item.refs)
        commits = len(item.commits) or ""
        print(f"| {item.layer} | {item.where} | {item.kind} | {item.count} | {refs} | {commits} |")
    for note in report.not_searchable:
        print(f"not searchable: {note}")
