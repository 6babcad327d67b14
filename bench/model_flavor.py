"""Registry: what the MLflow pyfunc flavor costs per version, on a tiny NLU model trained for
real (set-up, not timed), against a scratch SQLite store.

- **log**: ``registry.mlflow_model.log_pyfunc_model`` (LoggedModel, MLmodel with signature and
  input example, the SavedModel copied under ``artifacts/``) vs the plain
  ``log_artifacts`` of the SavedModel that versions used to point at; median of repeats.
- **size**: bytes of the stored MLflow model directory vs the bare SavedModel.
- **serve**: ``mlflow models serve -m models:/voicebot-nlu@champion --env-manager local``
  from start to the first ``/ping`` answer (TensorFlow import, model load and the warm-up on
  the input example), and the first ``/invocations`` after it.

    .venv/bin/python -m bench.model_flavor [--quick]
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench._common import Figure, bench_main, median, scratch_dir, timed, write_results

NAME = "model_flavor"
REPEATS, QUICK_REPEATS = 5, 2


def _bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(uri: str, tracking_uri: str) -> tuple[float, float]:
    """Seconds from start to the first ``/ping`` 200, and of the first invocation."""
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    env = os.environ | {
        "MLFLOW_TRACKING_URI": tracking_uri,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    command = [str(bin_dir / "mlflow"), "models", "serve", "-m", uri, "--env-manager", "local"]
    command += ["-h", "127.0.0.1", "-p", str(port), "-w", "1"]
    started = time.perf_counter()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    server = subprocess.Popen(command, env=env, start_new_session=True, **quiet)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            if server.poll() is not None or time.perf_counter() - started > 300:
                raise RuntimeError("mlflow models serve did not start")
            try:
                with urllib.request.urlopen(f"{base}/ping", timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        ready = time.perf_counter() - started
        body = json.dumps({"dataframe_records": [{"text": "What's the dollar rate?"}]}).encode()
        request = urllib.request.Request(
            f"{base}/invocations", body, {"Content-Type": "application/json"}
        )
        first, _ = timed(lambda: urllib.request.urlopen(request, timeout=60).read())
        return ready, first
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def run(quick: bool = False) -> dict[str, Any]:
    from mlflow.entities import LoggedModelStatus

    from registry.mlflow_model import log_pyfunc_model, saved_model_dir
    from registry.tracking import client
    from tests.registry.conftest import _train_nlu, build_world

    repeats = QUICK_REPEATS if quick else REPEATS
    with scratch_dir(NAME, 200 << 20) as work:
        from training.nlu.synthetic import synthetic_rows

        trained = _train_nlu(work / "nlu", synthetic_rows(8, seed=3), epochs=2)
        world = build_world(work / "home")
        mlflow = client(world.settings)
        experiment = mlflow.create_experiment("flavor", (work / "artifacts").as_uri())
        plain, flavored, logged = [], [], None
        path = trained.model_path
        for _ in range(repeats):
            run_id = mlflow.create_run(experiment).info.run_id
            started = time.perf_counter()
            mlflow.log_artifacts(run_id, str(path), "saved_model")
            plain.append(time.perf_counter() - started)
            started = time.perf_counter()
            logged = log_pyfunc_model(mlflow, experiment, run_id, "nlu", path)
            flavored.append(time.perf_counter() - started)
        assert logged is not None and logged.status == LoggedModelStatus.READY
        root = Path(logged.artifact_location.removeprefix("file://"))
        sizes = {"saved_model": _bytes(saved_model_dir(root)), "mlflow_model": _bytes(root)}
        mlflow.create_registered_model("voicebot-nlu")
        version = mlflow.create_model_version(
            "voicebot-nlu", logged.artifact_location, logged.source_run_id
        )
        mlflow.set_registered_model_alias("voicebot-nlu", "champion", version.version)
        ready, first = _serve("models:/voicebot-nlu@champion", world.settings.tracking_uri)
    figures = [
        Figure(NAME, "log SavedModel as run artifacts", median(plain), "s"),
        Figure(NAME, "log MLflow pyfunc model", median(flavored), "s"),
        Figure(NAME, "stored SavedModel", sizes["saved_model"] / 1024, "KiB"),
        Figure(NAME, "stored MLflow model", sizes["mlflow_model"] / 1024, "KiB"),
        Figure(NAME, "mlflow models serve: start to /ping", ready, "s"),
        Figure(NAME, "mlflow models serve: first invocation", first * 1000, "ms"),
    ]
    data = {"repeats": repeats, "sizes_bytes": sizes, "figures": figures}
    write_results(NAME, data)
    return data


def main(argv: Sequence[str] | None = None) -> None:
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
