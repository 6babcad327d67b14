"""The ``voiceops`` command: one entry point, a sub-command per area (``lake``, ``demo``, ...)."""

from __future__ import annotations

import warnings

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


#: google-api-core (pulled in by PyAirbyte) warns at import about Python versions it will stop
#: supporting one day: nothing a user of this command can act on.
GOOGLE_PYTHON_EOL_WARNING = r"You are using a Python version \S+ which Google will stop supporting"


def silence_known_warnings() -> None:
    """Ignore the dependency warnings listed above (only those: every other warning shows)."""
    warnings.filterwarnings("ignore", message=GOOGLE_PYTHON_EOL_WARNING, category=FutureWarning)


def main() -> None:
    """Console-script entry point (``voiceops = "voiceops.cli:main"``)."""
    silence_known_warnings()
    app()


__all__ = ["app", "main"]
