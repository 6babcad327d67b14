"""A trained SavedModel logged as an MLflow model, and where a version's artifact is on disk.

``log_pyfunc_model`` writes the MLflow model (``MLmodel`` with the pyfunc flavor, signature,
input example, pinned requirements, the loading code ``registry/pyfunc_code.py`` and the
SavedModel under ``artifacts/saved_model``) as a LoggedModel of the training run (MLflow 3:
``<experiment>/models/<model_id>/artifacts``), so ``models:/voicebot-<family>@champion``
loads and serves with ``mlflow.pyfunc`` and the UI shows its signature.

The whole MLflow model directory is the version's artifact: the gate's SHA-256 covers it
(``MLmodel``, the loading code and the SavedModel), while the families' code reads the
SavedModel inside it (:func:`saved_model_dir`). Versions registered before the flavor existed
point at a bare SavedModel directory; for them both are the same directory.
"""

from __future__ import annotations

import importlib.metadata
import tempfile
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from mlflow import MlflowClient
from mlflow.entities import LoggedModel, LoggedModelOutput, LoggedModelStatus
from mlflow.entities.model_registry import ModelVersion
from mlflow.models import Model

from core.settings import Settings
from registry.pyfunc import FAMILY_KEY, SAVED_MODEL
from registry.signatures import input_example, signature

MLMODEL = "MLmodel"
#: The models-from-code file MLflow copies into the model and runs to load it.
MODEL_CODE = Path(__file__).with_name("pyfunc_code.py")
#: Distributions the served model imports (pinned to what is installed when it is logged).
REQUIREMENTS = ("mlflow", "tensorflow-cpu", "numpy", "pandas", "pyyaml", "scipy")


def requirements() -> list[str]:
    """``name==version`` of :data:`REQUIREMENTS` as installed (the project's own code is
    loaded from the environment that serves the model)."""
    pins = []
    for name in REQUIREMENTS:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return pins


def save_pyfunc_model(family: str, saved_model: Path, path: Path, mlflow_model: Model) -> Path:
    """Write the family's MLflow model directory to ``path`` (nothing is loaded or run)."""
    import mlflow.pyfunc

    mlflow.pyfunc.save_model(
        path=str(path),
        python_model=str(MODEL_CODE),
        model_config={FAMILY_KEY: family},
        artifacts={SAVED_MODEL: str(saved_model)},
        signature=signature(family),
        input_example=input_example(family),
        pip_requirements=requirements(),
        mlflow_model=mlflow_model,
    )
    return path


def log_pyfunc_model(
    mlflow: MlflowClient, experiment_id: str, run_id: str, family: str, saved_model: Path
) -> LoggedModel:
    """Log ``saved_model`` as the run's MLflow model ``model`` (status READY once uploaded)."""
    logged = mlflow.create_logged_model(
        experiment_id, name="model", source_run_id=run_id, model_type=f"voiceops-{family}"
    )
    mlflow_model = Model(
        artifact_path=logged.artifact_location,
        model_uuid=logged.model_id,
        run_id=run_id,
        model_id=logged.model_id,
    )
    with tempfile.TemporaryDirectory(prefix=f"voiceops-{family}-model-") as work:
        local = save_pyfunc_model(family, saved_model, Path(work) / "model", mlflow_model)
        mlflow.log_model_artifacts(logged.model_id, str(local))
    mlflow.log_outputs(run_id, [LoggedModelOutput(logged.model_id, step=0)])
    return mlflow.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)


def stored_model(version: ModelVersion, settings: Settings) -> Path:
    """A local directory holding the version's artifact as stored (downloaded once if remote):
    the MLflow model directory, or the bare SavedModel of an older version."""
    parsed = urlparse(version.source)
    if parsed.scheme in ("", "file"):
        return Path(url2pathname(parsed.path))
    cache = settings.home / "mlflow" / "cache" / version.name / str(version.version)
    target = cache / "model"
    if not target.is_dir():
        from mlflow.artifacts import download_artifacts

        cache.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix="download-", dir=cache))
        download_artifacts(
            artifact_uri=version.source, dst_path=str(partial), tracking_uri=settings.tracking_uri
        )
        (only,) = list(partial.iterdir())  # named after the source's last path component
        only.rename(target)
        partial.rmdir()
    return target


def saved_model_dir(root: Path) -> Path:
    """The SavedModel inside a stored artifact (``root`` itself for a bare SavedModel)."""
    return root / "artifacts" / SAVED_MODEL if (root / MLMODEL).is_file() else root
