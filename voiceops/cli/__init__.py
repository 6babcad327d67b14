"""The ``voiceops`` command: one entry point, a sub-command per area (``lake``, ``demo``, ...).

Sub-commands are imported when they run (:mod:`voiceops.cli._group`): ``voiceops --help``
and ``voiceops lake ...`` do not pay for Dagster, dbt, MLflow or TensorFlow.
"""

from __future__ import annotations

import warnings
from typing import ClassVar

import typer

from voiceops.cli._group import LazyCommand, RootGroup


class VoiceOpsGroup(RootGroup):
    """The sub-commands of ``voiceops``, in the order ``voiceops --help`` lists them."""

    lazy: ClassVar[dict[str, LazyCommand]] = {
        "predict": LazyCommand(
            "voiceops.cli.predict",
            "predict_cmd",
            "Run the versioned artifact on INPUT (no retraining) and print the result as JSON.",
        ),
        "lake": LazyCommand(
            "voiceops.cli.lake",
            "lake_app",
            "The versioned data lake (lakeFS semantics; lakefs://REPO/REF/PATH URIs).",
        ),
        "simulate": LazyCommand(
            "voiceops.cli.simulate",
            "simulate_app",
            "The contact-center simulator: days of calls, recordings and CRM data.",
        ),
        "warehouse": LazyCommand(
            "voiceops.cli.warehouse",
            "warehouse_app",
            "The warehouse: audit (load + dbt build), publish, lakeFS hook.",
        ),
        "demo": LazyCommand(
            "voiceops.cli.demo",
            "demo_app",
            "Run the platform end to end on the embedded defaults.",
        ),
        "models": LazyCommand(
            "voiceops.cli.models",
            "models_app",
            "The model registry: versions, lineage, the gate, promotion.",
        ),
    }


app = typer.Typer(
    name="voiceops",
    cls=VoiceOpsGroup,
    help="VoiceOps: the MLOps platform of the contact-center voice bot.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def voiceops() -> None:
    """The root group (its sub-commands are listed by :class:`VoiceOpsGroup`)."""


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
