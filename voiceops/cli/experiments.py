"""``voiceops experiments``: the lifecycle of experiments (list, show, start, stop, decide) and
the sample size a spec needs (power)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from voiceops.cli._lakeargs import current_settings
from voiceops.cli._output import (
    CliError,
    JsonOption,
    esc,
    format_time,
    print_json,
    say,
    stdout_console,
)

experiments_app = typer.Typer(
    help="Experiments on live traffic: lifecycle, analysis, decision, canary rollout."
)
KeyArg = Annotated[
    str,
    typer.Argument(
        help="The experiment's key (experiments/specs/KEY.yaml, or a canary the platform "
        "started: $VOICEOPS_HOME/experiments/specs/KEY.yaml)."
    ),
]


def _share(spec, stage: int) -> str:  # type: ignore[no-untyped-def]
    weights = spec.weights_at(stage)
    return ", ".join(f"{arm} {share:.0%}" for arm, share in weights.items())


@experiments_app.command("list")
def list_cmd(json_out: JsonOption = False) -> None:
    """Every spec with its status, traffic split and dates."""
    from experiments.spec import load_specs
    from experiments.state import ExperimentState, StateStore

    store = StateStore(current_settings())
    specs = load_specs(store.specs_dirs)
    states = store.all()
    rows = [(spec, states.get(key, ExperimentState(key))) for key, spec in sorted(specs.items())]
    if json_out:
        print_json(
            [
                state.to_dict()
                | {"weights": spec.weights_at(state.stage), "arms": spec.arms}
                | {"start": str(spec.start), "stop": str(spec.stop)}
                for spec, state in rows
            ]
        )
        return
    table = Table("key", "status", "split", "dates", "arms")
    for spec, state in rows:
        arms = "; ".join(
            f"{arm}: " + " ".join(f"{f} v{v}" for f, v in versions.items())
            for arm, versions in spec.arms.items()
        )
        kind = ""
        if spec.rollout:
            kind = f" (canary stage {state.stage + 1}/{len(spec.rollout.steps)})"
        table.add_row(
            spec.key,
            state.status + kind,
            _share(spec, state.stage),
            f"{spec.start} - {spec.stop}",
            arms,
        )
    stdout_console().print(table)


@experiments_app.command("show")
def show_cmd(key: KeyArg, json_out: JsonOption = False) -> None:
    """One experiment: its spec, state and every transition."""
    from experiments.state import StateStore

    store = StateStore(current_settings())
    spec, state, history = store.spec(key), store.get(key), store.history(key)
    if json_out:
        print_json(
            {
                "spec": spec.model_dump(mode="json"),
                "state": state.to_dict(),
                "history": [t.to_dict() for t in history],
            }
        )
        return
    split = _share(spec, state.stage)
    say(f"{spec.key}: {state.status}, split {split}, {spec.start} - {spec.stop}")
    for arm, versions in spec.arms.items():
        say(f"  {arm}: " + ", ".join(f"{f} v{v}" for f, v in versions.items()))
    say("  metrics: " + ", ".join(f"{m.name} ({m.better})" for m in spec.metrics))
    say(
        f"  guardrails: p99 latency <= {spec.guardrails.latency_p99_ms:g} ms, error rate <= "
        f"{spec.guardrails.error_rate:g}, handoff rate <= {spec.guardrails.handoff_rate:g}; "
        f"min {spec.min_sample_size} users per arm{', sequential' if spec.sequential else ''}"
    )
    if history:
        table = Table("when", "who", "action", "status", "stage", "why")
        for t in history:
            table.add_row(
                format_time(t.at),
                t.user,
                t.action,
                f"{t.from_status} -> {t.to_status}",
                str(t.stage),
                esc(t.reason),
            )
        stdout_console().print(table)


@experiments_app.command("start")
def start_cmd(key: KeyArg) -> None:
    """Start KEY: it takes traffic within its dates (its versions must be servable)."""
    from experiments.state import StateStore

    spec_store = StateStore(current_settings())
    state = spec_store.start(key)
    say(f"{key}: {state.status} ({_share(spec_store.spec(key), state.stage)})")


@experiments_app.command("stop")
def stop_cmd(
    key: KeyArg,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the history).")] = "",
) -> None:
    """Stop KEY: every caller is back on the champions."""
    from experiments.state import StateStore

    state = StateStore(current_settings()).stop(key, reason)
    say(f"{key}: {state.status} ({esc(state.reason)})")


@experiments_app.command("decide")
def decide_cmd(
    key: KeyArg,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Analyse and say what would happen; change nothing.")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Analyse KEY and promote the winning arm's versions to champion; exit 1 on no decision."""
    from experiments.decision import decide

    decision = decide(current_settings(), key, dry_run=dry_run)
    if json_out:
        print_json(decision.to_dict())
    else:
        say(esc(decision.analysis.to_markdown()))
        prefix = "(dry run) " if dry_run else ""
        say(esc(f"{prefix}{key}: {decision.outcome}: {decision.reason}"))
        for p in decision.promotions:
            old = f"v{p.from_version}" if p.from_version else "none"
            say(f"{prefix}{p.family}: @champion {old} -> v{p.to_version}")
    if not decision.decided:
        raise typer.Exit(1)


@experiments_app.command("power")
def power_cmd(
    baseline: Annotated[float, typer.Option(help="The control's rate, e.g. 0.8.")],
    mde: Annotated[
        float | None, typer.Option(help="Smallest absolute change to detect, e.g. 0.02.")
    ] = None,
    margin: Annotated[
        float | None,
        typer.Option(help="A canary's non-inferiority margin to show instead, e.g. 0.03."),
    ] = None,
    alpha: Annotated[float, typer.Option(help="Two-sided significance level.")] = 0.05,
    power: Annotated[float, typer.Option(help="Probability of detecting the MDE.")] = 0.8,
    fixed: Annotated[
        bool, typer.Option("--fixed", help="With --margin: a fixed-horizon interval.")
    ] = False,
) -> None:
    """Users per arm (a spec's min_sample_size) to detect BASELINE -> BASELINE + MDE, or
    (--margin) for a canary to show equal arms within MARGIN (always-valid interval)."""
    from experiments.power import calls_to_show_within, sample_size_per_arm

    if (mde is None) == (margin is None):
        raise CliError("give exactly one of --mde and --margin")
    if margin is not None:
        n = calls_to_show_within(baseline, margin, alpha=alpha, power=power, sequential=not fixed)
        kind = "fixed-horizon" if fixed else "always-valid"
        settings = f"baseline {baseline:g}, margin {margin:g} ({kind}), power {power:g}"
        say(f"{n} users per arm ({settings})")
        return
    n = sample_size_per_arm(baseline, mde, alpha=alpha, power=power)
    settings = f"baseline {baseline:g}, mde {mde:+g}, alpha {alpha:g}, power {power:g}"
    say(f"{n} users per arm ({settings})")
