"""The ``voiceops`` command: one entry point, a sub-command per area (``lake``, ``demo``, ...)."""

from __future__ import annotations

import typer

from voiceops.cli._output import ErrorHandlingGroup
from voiceops.cli.demo import demo_app
from voiceops.cli.lake import lake_app
from voiceops.cli.models import models_app
from voiceops.cli.predict import predict_cmd
from voiceops.cli.simulate import simulate_app
from voiceops.cli.warehouse import warehouse_app

app = typer.Typer(
    name="voiceops",
    cls=ErrorHandlingGroup,
    help="VoiceOps: the MLOps platform of the contact-center voice bot.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(lake_app, name="lake")
app.add_typer(simulate_app, name="simulate")
app.add_typer(warehouse_app, name="warehouse")
app.add_typer(demo_app, name="demo")
app.add_typer(models_app, name="models")
app.command("predict")(predict_cmd)


def main() -> None:
    """Console-script entry point (``voiceops = "voiceops.cli:main"``)."""
    app()


__all__ = ["app", "main"]
