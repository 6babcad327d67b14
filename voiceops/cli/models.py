"""``voiceops models``: the model registry (versions, lineage, promotion, rollback, history)."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.tree import Tree

from voiceops.cli._lakeargs import current_settings
from voiceops.cli._output import (
    CliError,
    JsonOption,
    esc,
    format_time,
    print_json,
    say,
    short_id,
    stdout_console,
)
from voiceops.cli._registry import FamilyArg, registry_call

models_app = typer.Typer(help="The model registry: versions, lineage, the gate, promotion.")
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (kept in the history).")]


def _score(value: Any) -> str:
    return "" if value is None else f"{value:.3f}"


@models_app.command("list")
def list_cmd(
    family: Annotated[str | None, typer.Argument(help="Only this family.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Registered versions with their aliases, gate verdict, lake commit and headline score."""
    from registry.catalog import list_versions

    rows = registry_call(lambda: list_versions(current_settings(), family))
    if json_out:
        print_json(rows)
        return
    stdout_console().print(registry_table(rows))


def registry_table(rows: list[dict[str, Any]], title: str | None = None) -> Table:
    """Versions as a table: model, version, aliases, gate, lake commit, score, created."""
    table = Table("model", "version", "aliases", "gate", "lake commit", "score", "created")
    table.title = title
    for row in rows:
        table.add_row(
            row["model"],
            row["version"],
            ", ".join(f"@{a}" for a in row["aliases"]),
            row["gate"],
            short_id(row["lake_commit"]),
            f"{row['headline']} {_score(row['score'])}".strip(),
            format_time(row["created"]),
        )
    return table


def register_trained_models() -> None:
    """Run ``register_models_job`` on the pipeline's Dagster instance; print the registry."""
    from dagster import AssetKey

    from orchestration.definitions import definitions_for
    from orchestration.runs import dagster_instance, quiet_run_config
    from registry.catalog import list_versions
    from training.families import FAMILIES

    started = time.monotonic()
    instance = dagster_instance()
    trained = [
        AssetKey(["registry", key.path[-1]])
        for key in (AssetKey(["models", name]) for name in FAMILIES)
        if instance.get_latest_materialization_event(key) is not None
    ]
    if not trained:
        say("registry: no trained model to register")
        return
    job = definitions_for(current_settings()).resolve_job_def("register_models_job")
    result = job.execute_in_process(
        instance=instance,
        run_config=quiet_run_config(),
        raise_on_error=False,
        asset_selection=trained,
    )
    if not result.success:
        failures = [e.step_failure_data.error for e in result.get_step_failure_events()]
        detail = "; ".join(esc(f.message.strip().splitlines()[0]) for f in failures if f)
        raise CliError(f"registering the trained models failed (run {result.run_id}): {detail}")
    for check in result.get_asset_check_evaluations():
        family = check.asset_key.path[-1]
        rules = check.metadata.get("rules")
        refused = [] if rules is None else [v for v in rules.value.values() if "REFUSED" in v]
        verdict = "passed" if check.passed else f"refused ({esc('; '.join(refused))})"
        say(f"registry gate for {family}: {verdict}")
    say(f"registered in {time.monotonic() - started:.0f} s (run {result.run_id})")
    rows = list_versions(current_settings())
    stdout_console().print(registry_table(rows, "Model registry (voiceops models list)"))


def lineage_tree(record: dict[str, Any]) -> Tree:
    """version -> lake commit -> ingestion runs -> sources, plus data, code and the gate."""
    names = " ".join(f"@{a}" for a in record["aliases"])
    tree = Tree(f"{record['model']} v{record['version']} {names} gate: {record['gate']}")
    lineage = record["lineage"]
    if (external := lineage.get("external")) is not None:
        return _external_tree(tree, record, external)
    lake = lineage.get("lake", {})
    commit = tree.add(
        f"lake commit {lake.get('repository', '?')}@{short_id(lake.get('commit', ''))} "
        f"(audited {short_id(lake.get('audited_commit', ''))}, dbt manifest "
        f"{short_id(lake.get('dbt_manifest_hash', ''))}, "
        f"{len(lake.get('checks_passed', []))} checks passed)"
    )
    for run in lake.get("ingestion_runs", []):
        node = commit.add(
            f"ingestion run {run['run_id']} ({run['date']}, {short_id(run['commit'])})"
        )
        for src in run["sources"]:
            node.add(
                f"{src['source']}.{src['stream']}: {src['records']} records, "
                f"{src['quarantined']} quarantined {esc(src['connector'])}".rstrip()
            )
    data = lineage.get("data", {})
    tree.add(f"data rows {data.get('rows')} sha256 {short_id(data.get('hash', ''), 16)}")
    code = lineage.get("code", {})
    tree.add(
        f"code {short_id(code.get('revision', ''))} family {code.get('family_version', '')}; "
        f"config {short_id(lineage.get('config_hash', ''))}; "
        f"dagster run {lineage.get('dagster_run_id') or 'none'}"
    )
    gate = tree.add(
        f"gate {record['gate']} (vs champion {record['tags'].get('lineage.champion_compared')})"
    )
    for rule in record["gate_rules"]:
        gate.add(f"{'ok ' if rule['passed'] else 'NO '} {rule['rule']}: {esc(rule['reason'])}")
    return tree


def _external_tree(tree: Tree, record: dict[str, Any], external: dict[str, Any]) -> Tree:
    """An imported version: its source, licence and files instead of a lake commit."""
    tree.add(
        esc(
            f"imported {external['source']} ({external['engine']}, licence "
            f"{external['licence']}, languages {','.join(external['languages'])}); "
            f"{external['files']} model files sha256 {external['sha256']}; not reproducible "
            "from the lake"
        )
    )
    evaluated = record["lineage"].get("evaluated_on", {})
    tree.add(
        f"evaluated on lake commit {short_id(evaluated.get('lake_commit', ''))}, rows "
        f"{evaluated.get('rows')}"
    )
    gate = tree.add(
        f"gate {record['gate']} (vs champion {record['tags'].get('lineage.champion_compared')})"
    )
    for rule in record["gate_rules"]:
        gate.add(f"{'ok ' if rule['passed'] else 'NO '} {rule['rule']}: {esc(rule['reason'])}")
    return tree


@models_app.command("show")
def show_cmd(
    family: FamilyArg,
    ref: Annotated[str, typer.Argument(help="A version number or @alias.")],
    json_out: JsonOption = False,
) -> None:
    """One version: scores, gate verdict and its lineage as a tree."""
    from registry.catalog import show_version

    record = registry_call(lambda: show_version(current_settings(), family, ref))
    if json_out:
        print_json(record)
        return
    stdout_console().print(lineage_tree(record))
    for language, metrics in sorted(record["scores"].items()):
        text = ", ".join(f"{k} {v:.4f}" for k, v in sorted(metrics.items()))
        say(esc(f"test[{language}]: {text}"))


@models_app.command("promote")
def promote_cmd(
    family: FamilyArg,
    version: Annotated[str, typer.Argument(help="The version to make champion.")],
    reason: ReasonOption = "",
    force: Annotated[
        bool, typer.Option("--force", help="Promote a version the gate refused (needs --reason).")
    ] = False,
) -> None:
    """Make VERSION the champion (a version the gate refused only with --force --reason)."""
    from registry.aliases import promote

    move = registry_call(
        lambda: promote(current_settings(), family, version, reason=reason, force=force)
    )
    old = f"v{move.from_version}" if move.from_version else "none"
    say(f"{move.model}: @champion {old} -> v{move.to_version} ({esc(move.reason)})")


@models_app.command("rollback")
def rollback_cmd(family: FamilyArg, reason: ReasonOption = "") -> None:
    """Move the champion back to the previous champion."""
    from registry.aliases import rollback

    move = registry_call(lambda: rollback(current_settings(), family, reason=reason))
    say(f"{move.model}: @champion v{move.from_version} -> v{move.to_version} ({esc(move.reason)})")


@models_app.command("history")
def history_cmd(family: FamilyArg, json_out: JsonOption = False) -> None:
    """Every alias move, oldest first: when, who, which alias, from -> to, why."""
    from registry.aliases import alias_history

    moves = registry_call(lambda: alias_history(current_settings(), family))
    if json_out:
        print_json([m.to_dict() for m in moves])
        return
    table = Table("when", "who", "alias", "action", "from", "to", "why")
    for m in moves:
        table.add_row(
            format_time(m.at),
            m.user,
            f"@{m.alias}",
            m.action,
            f"v{m.from_version}" if m.from_version else "-",
            f"v{m.to_version}" if m.to_version else "-",
            esc(m.reason),
        )
    stdout_console().print(table)


@models_app.command("reproduce")
def reproduce_cmd(
    family: FamilyArg,
    version: Annotated[str, typer.Argument(help="The version to retrain.")],
    tolerance: Annotated[
        float, typer.Option(help="Largest allowed |difference| per test metric.")
    ] = 0.02,
    json_out: JsonOption = False,
) -> None:
    """Retrain VERSION from its recorded lake commit and config; compare the test metrics."""
    from voiceops.cli._progress import training_progress, watching
    from voiceops.cli._tensorflow import import_tensorflow, tensorflow_notices_filtered

    training_progress(watching(json_out))
    import_tensorflow()
    from registry.reproduce import reproduce

    with tensorflow_notices_filtered():
        result = registry_call(
            lambda: reproduce(current_settings(), family, version, tolerance=tolerance)
        )
    if json_out:
        print_json(result.to_dict())
    else:
        for line in result.lines():
            say(esc(line))
    if not result.ok:
        raise typer.Exit(1)


def _add_step_commands() -> None:
    """The one-step-per-process commands (data, train, evaluate, register), import and
    compare, and breakdown."""
    from voiceops.cli.models_breakdown import COMMANDS as BREAKDOWN_COMMANDS
    from voiceops.cli.models_import import COMMANDS as IMPORT_COMMANDS
    from voiceops.cli.models_steps import COMMANDS

    for name, command in (COMMANDS | IMPORT_COMMANDS | BREAKDOWN_COMMANDS).items():
        models_app.command(name)(command)


_add_step_commands()
