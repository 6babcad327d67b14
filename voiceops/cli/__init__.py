"""The ``voiceops`` command: one entry point, a sub-command per area (``lake``, ``demo``, ...).

Sub-commands are imported when they run (:mod:`voiceops.cli._group`): ``voiceops --help``
and ``voiceops lake ...`` do not pay for Dagster, dbt, MLflow or TensorFlow. This module
imports no Typer itself: :data:`app` and :class:`VoiceOpsGroup` are built on first use, so that
``voiceops lake commit`` in its plain forms runs without Typer
(:func:`voiceops.cli._lakeargs.commit_fast_path`).
"""

from __future__ import annotations

import sys
import warnings
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import typer

    from voiceops.cli._group import RootGroup

#: The sub-commands of ``voiceops`` (module, attribute, one-line help), in the order
#: ``voiceops --help`` lists them.
SUB_COMMANDS: dict[str, tuple[str, str, str]] = {
    "predict": (
        "voiceops.cli.predict",
        "predict_cmd",
        "Run the versioned artifact on INPUT (no retraining) and print the result as JSON.",
    ),
    "explain": (
        "voiceops.cli.explain",
        "explain_cmd",
        "The NLU decision on TEXT (intent, confidence, slots) and the K nearest training "
        "examples of its version, with their labels and similarity.",
    ),
    "lake": (
        "voiceops.cli.lake",
        "lake_app",
        "The versioned data lake (lakeFS semantics; lakefs://REPO/REF/PATH URIs).",
    ),
    "simulate": (
        "voiceops.cli.simulate",
        "simulate_app",
        "The contact-center simulator: days of calls, recordings and CRM data.",
    ),
    "warehouse": (
        "voiceops.cli.warehouse",
        "warehouse_app",
        "The warehouse: audit (load + dbt build), publish, lakeFS hook.",
    ),
    "demo": (
        "voiceops.cli.demo",
        "demo_app",
        "Run the platform end to end on the embedded defaults.",
    ),
    "models": (
        "voiceops.cli.models",
        "models_app",
        "The model registry: versions, lineage, the gate, promotion.",
    ),
    "experiments": (
        "voiceops.cli.experiments",
        "experiments_app",
        "Experiments on live traffic: lifecycle, analysis, decision, canary rollout.",
    ),
    "tune": (
        "voiceops.cli.tune",
        "tune_app",
        "Hyperparameter tuning from a Katib Experiment spec (local Optuna, or a cluster).",
    ),
    "monitor": (
        "voiceops.cli.monitor",
        "monitor_app",
        "Monitoring: the pipeline metrics (Prometheus text, textfile or Pushgateway) and "
        "the status of the champions (drift, live figures, alerts).",
    ),
    "privacy": (
        "voiceops.cli.privacy",
        "privacy_app",
        "Personal data: how well the detector finds it (precision / recall per kind), "
        "how long each layer keeps it (retention), where a customer is, and their erasure.",
    ),
    "trail": (
        "voiceops.cli.trail",
        "trail_app",
        "The trail of who did what: list its entries, verify its hash chain.",
    ),
    "access": (
        "voiceops.cli.access",
        "access_app",
        "Access control: API keys (hashed at rest) and the roles of the network surfaces.",
    ),
    "serve": (
        "voiceops.cli.serve",
        "serve_cmd",
        "Serve the voice bot: POST /v1/turn, /healthz, /readyz, /metrics, OpenAPI at /docs.",
    ),
    "turn": (
        "voiceops.cli.serve",
        "turn_cmd",
        "Send one turn (a WAV file or --text) to the API and print its answer as JSON.",
    ),
}


def _build() -> tuple[type[RootGroup], typer.Typer]:
    """The root group class and the Typer app (imports Typer)."""
    import typer

    from voiceops.cli._group import LazyCommand, RootGroup

    class VoiceOpsGroup(RootGroup):
        """The sub-commands of ``voiceops``, in the order ``voiceops --help`` lists them."""

        lazy: ClassVar[dict[str, LazyCommand]] = {
            name: LazyCommand(*spec) for name, spec in SUB_COMMANDS.items()
        }

    VoiceOpsGroup.__module__, VoiceOpsGroup.__qualname__ = __name__, "VoiceOpsGroup"
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

    return VoiceOpsGroup, app


def __getattr__(name: str) -> Any:
    """``app`` (the Typer app) and ``VoiceOpsGroup`` (its group class), built on first use."""
    if name in ("app", "VoiceOpsGroup"):
        group, app = _build()
        globals().update(VoiceOpsGroup=group, app=app)
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Classes of expected failures, by module: an instance exists only if its module was imported,
#: so the check imports nothing.
EXPECTED_FAILURES = (("core.errors", "VoiceOpsError"),)


def is_expected_failure(error: BaseException) -> bool:
    """Whether ``error`` is reported as one ``error:`` line rather than a traceback: any
    :class:`~core.errors.VoiceOpsError` (a lake, registry or warehouse refusal, a
    :class:`~voiceops.cli._output.CliError`), an ``OSError`` or a ``UnicodeError``."""
    if isinstance(error, OSError | UnicodeError):
        return True
    for module, name in EXPECTED_FAILURES:
        cls = getattr(sys.modules.get(module), name, None)
        if cls is not None and isinstance(error, cls):
            return True
    return False


#: google-api-core (pulled in by PyAirbyte) warns at import about Python versions it will stop
#: supporting one day: nothing a user of this command can act on.
GOOGLE_PYTHON_EOL_WARNING = r"You are using a Python version \S+ which Google will stop supporting"


def silence_known_warnings() -> None:
    """Ignore the dependency warnings listed above (only those: every other warning shows)."""
    warnings.filterwarnings("ignore", message=GOOGLE_PYTHON_EOL_WARNING, category=FutureWarning)


def main() -> None:
    """Console-script entry point (``voiceops = "voiceops.cli:main"``)."""
    silence_known_warnings()
    if sys.argv[1:3] == ["lake", "commit"]:
        from voiceops.cli._lakeargs import commit_fast_path

        if commit_fast_path(sys.argv[3:]):
            return
    __getattr__("app")()


__all__ = ["app", "main"]
