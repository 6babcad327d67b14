"""``voiceops tune``: hyperparameter tuning from a Katib ``Experiment`` manifest.

    voiceops tune SPEC.yaml [--storage URL] [--commit C]   # run it here (Optuna)
    voiceops tune render SPEC.yaml [-o FILE] [--image I]    # the manifest for a cluster
    voiceops tune trial FAMILY --set F=V ...                # one trial (the cluster's command)

``voiceops tune SPEC.yaml`` is ``voiceops tune run SPEC.yaml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer import _click
from typer.core import TyperGroup

from voiceops.cli._lakeargs import current_settings
from voiceops.cli._output import CliError, JsonOption, print_json, say


class TuneGroup(TyperGroup):
    """``tune SPEC.yaml [OPTIONS]`` runs the spec: arguments that do not start with a
    sub-command (or ``--help``) are those of ``run``."""

    def parse_args(self, ctx: _click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["run", *args]
        return super().parse_args(ctx, args)


tune_app = typer.Typer(
    cls=TuneGroup,
    help="Hyperparameter tuning from a Katib Experiment spec (local Optuna, or a cluster).",
    no_args_is_help=True,
)
SpecArg = Annotated[Path, typer.Argument(help="A Katib Experiment manifest (YAML).")]


def _status_line(status: Any) -> str:
    return (
        f"{status.state} ({status.reason}): {status.message}; trials: {status.succeeded} "
        f"succeeded, {status.pruned} early-stopped, {status.failed} failed"
    )


@tune_app.command("run")
def run_cmd(
    spec_path: SpecArg,
    storage: Annotated[
        str | None,
        typer.Option(
            "--storage",
            help="Optuna storage URL shared by every worker, e.g. postgresql://user@host/db "
            "(default: SQLite under $VOICEOPS_HOME/tuning).",
        ),
    ] = None,
    commit: Annotated[
        str | None, typer.Option("--commit", help="Lake commit to train on (default: published).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Trials this process runs at once (default: parallelTrialCount).",
        ),
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Delete the study of the same name first.")
    ] = False,
    tuned_dir: Annotated[
        Path | None,
        typer.Option(
            "--tuned-dir", help="Where the proposal goes (default: training/<family>/tuned)."
        ),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Run the experiment here with Optuna until Katib's rules end it; propose the best
    config for review (training/<family>/tuned/<name>.yaml, never applied)."""
    from tuning.load import load_tuning_spec
    from tuning.runner import run_experiment

    spec = load_tuning_spec(spec_path)
    log = (lambda line: None) if json_out else say
    result = run_experiment(
        spec,
        current_settings(),
        storage=storage,
        commit=commit,
        workers=workers,
        fresh=fresh,
        tuned_dir=tuned_dir,
        log=log,
    )
    status, best = result.status, result.best
    if json_out:
        print_json(
            {
                "experiment": spec.name,
                "state": status.state,
                "reason": status.reason,
                "message": status.message,
                "trials": {
                    "succeeded": status.succeeded,
                    "early_stopped": status.pruned,
                    "failed": status.failed,
                },
                "best": None
                if best is None
                else {"trial": best.number, "value": best.value, "sets": best.user_attrs["sets"]},
                "proposal": str(result.proposal.path) if result.proposal else None,
                "plots": [str(p) for p in result.plots],
                "storage": result.storage,
                "lake_commit": result.commit,
            }
        )
    else:
        say(f"{spec.name}: {_status_line(status)}")
        if best is not None:
            say(
                f"best: trial {best.number}, {spec.body.objective.objectiveMetricName} "
                f"{best.value:.4f} ({' '.join(best.user_attrs.get('sets', []))})"
            )
        if result.proposal is not None:
            say(f"proposed for review (not applied): {result.proposal.path}")
            for line in result.proposal.diff.splitlines():
                say("  " + line)
        for plot in result.plots:
            say(f"plot: {plot}")
    if status.state == "Failed":
        raise CliError(f"experiment {spec.name} failed: {status.message}")


@tune_app.command("render")
def render_cmd(
    spec_path: SpecArg,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    image: Annotated[
        str | None,
        typer.Option("--image", help="Training image (default: voiceops/training:<version>)."),
    ] = None,
    commit: Annotated[
        str | None,
        typer.Option("--commit", help="Lake commit every trial trains on (default: published)."),
    ] = None,
    namespace: Annotated[str | None, typer.Option("--namespace", "-n")] = None,
) -> None:
    """Print the Katib manifest for a Kubeflow cluster (trials run the training image)."""
    import yaml

    from tuning.load import load_tuning_spec
    from tuning.render import render

    spec = load_tuning_spec(spec_path)
    if commit is None:
        from training.common.data import published_commit

        commit = published_commit(current_settings())
        if commit is None:
            raise CliError("nothing is published to pin the trials to: pass --commit")
    text = yaml.safe_dump(
        render(spec, image=image, commit=commit, namespace=namespace), sort_keys=False
    )
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        say(f"wrote {output}")


@tune_app.command("trial")
def trial_cmd(
    family: Annotated[str, typer.Argument(help="stt, nlu, nlg or tts.")],
    size: Annotated[str, typer.Option("--size", help="tiny or demo.")] = "demo",
    commit: Annotated[str | None, typer.Option("--commit")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="FIELD=VALUE", help="Override a config field."),
    ] = None,
) -> None:
    """Train one trial and print name=value metric lines (Katib's stdout collector)."""
    from tuning.trial import run_trial

    if size not in ("tiny", "demo"):
        raise CliError(f"--size {size}: must be tiny or demo")
    run_trial(current_settings(), family, size, list(set_ or []), commit, out=say)
