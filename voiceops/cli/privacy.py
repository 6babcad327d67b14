"""``voiceops privacy``: personal data in the platform's text.

voiceops privacy eval [--n N] [--seed S] [--variants]   # PII detection: precision / recall
voiceops privacy retention [--dry-run] [--json]   # remove what each layer kept too long
voiceops privacy find --customer ID [--json] [--expect-none]   # a data subject in every layer
voiceops privacy erase --customer ID [--dry-run] [--json]   # erase a data subject, prove it
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # the CLI imports a command's modules only when it runs
    from governance.erasure import ErasureReport
    from governance.subject_search import SearchReport

privacy_app = typer.Typer(
    help="Personal data: how well the detector finds it (precision / recall per kind), "
    "how long each layer keeps it (retention), where a customer is, and their erasure.",
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
    """Where a customer's identifiers (CRM id, pseudonym key, name, phone, email, passport,
    cards said in their calls) occur: every lake ref and commit, every warehouse schema,
    the experiment events, the simulator's sources and the connector logs. Exits 0 (it is
    a search) unless ``--expect-none`` is given and something is found."""
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


@privacy_app.command("erase")
def erase_cmd(
    customer: Annotated[str, typer.Option("--customer", help="The CRM customer id.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what each layer would lose; change nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
) -> None:
    """Erase a customer from every layer (crypto-shredding: their lake key is destroyed;
    warehouse rows, events, source records and log lines are deleted), then search for them
    again. Exits 0 only when that proof search finds nothing."""
    import json

    from core.settings import Settings
    from governance.erasure import erase

    report = erase(Settings(), customer, dry_run=dry_run)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_erasure(report)
    if not dry_run and not report.ok:
        raise typer.Exit(1)


def _print_erasure(report: ErasureReport) -> None:
    from governance.erasure import LEGACY_HELP

    lake = report.lake_summary()
    verb = "would delete" if report.dry_run else "deleted"
    head = "plan of the erasure of" if report.dry_run else f"erasure {report.erasure_id} of"
    print(f"{head} customer {report.customer_id} (identifiers: {', '.join(report.identifiers)})")
    if report.already_erased:
        print("already erased before (on the suppression list)")
    if report.before is not None:
        where = ", ".join(f"{k} {v}" for k, v in report.before.counts().items())
        print(f"found before: {report.before.total()} ({where})")
    key = (
        "would be destroyed"
        if report.dry_run
        else ("destroyed" if report.key_destroyed else "none left to destroy")
    )
    print(
        f"{'lake':<16} key {key}: {lake['sealed_objects']} objects hold "
        f"{lake['sealed_values']} values sealed under it; 0 objects rewritten"
    )
    for layer, count in report.counts().items():
        print(f"{layer:<16} {verb} {count:>6}")
    for item in report.deletions:
        print(f"  - {item.layer}: {item.where} ({item.count} {item.unit})")
    if lake["plain_objects"]:
        print(f"\nlake objects holding the subject in PLAIN text ({len(lake['plain_objects'])}):")
        for item in lake["plain_objects"]:
            refs = ", ".join(item["refs"])
            kinds = ", ".join(item["identifiers"])
            print(f"  - {item['path']} ({kinds}) at {refs} ({item['commits']} commits)")
        print(LEGACY_HELP)
    for note in report.not_searched:
        print(f"not searched: {note}")
    if report.dry_run:
        return
    proof = report.proof
    if proof is None:
        return
    if report.ok:
        print(f"erased: proof: nothing found ({proof.seconds:g} s; record {report.erasure_id})")
        return
    print(f"\nerasure incomplete: proof: {proof.total()} findings left")
    _print_search(proof)
