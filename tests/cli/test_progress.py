"""Progress on long work (epoch lines, simulator stages) and TensorFlow's start-up notices
kept off the screen."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ingestion.simulator.day import write_day
from voiceops.cli import _progress
from voiceops.cli._tensorflow import START_UP_NOTICES

NOTICE_TEXTS = (
    "All log messages before absl::InitializeLog()",
    "oneDNN custom operations",
    "cpu_feature_guard",
    "rebuild TensorFlow with the appropriate compiler flags",
)


def _fit(callbacks: list, epochs: int = 2) -> None:
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    x = np.linspace(0, 1, 32, dtype="float32").reshape(-1, 1)
    y = (x > 0.5).astype("float32")
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, validation_split=0.25, epochs=epochs, verbose=0, callbacks=callbacks)


def test_epoch_progress_prints_a_line_per_epoch_with_the_main_metric() -> None:
    from training.common.callbacks import EpochProgress

    stream = io.StringIO()
    _fit([EpochProgress("nlu", stream=stream, enabled=True)], epochs=3)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    for k, line in enumerate(lines, 1):
        assert re.fullmatch(
            rf"nlu epoch {k}/3: loss \d+\.\d{{4}}, val_accuracy \d+\.\d{{4}} \(\d+\.\d s\)", line
        ), line


def test_epoch_progress_follows_voiceops_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    from training.common.callbacks import EpochProgress, training_callbacks

    stream = io.StringIO()
    monkeypatch.setenv(_progress.PROGRESS_ENV, "0")
    _fit([EpochProgress("nlu", stream=stream)])
    assert stream.getvalue() == ""
    monkeypatch.setenv(_progress.PROGRESS_ENV, "1")
    _fit([EpochProgress("nlu", stream=stream)])
    assert len(stream.getvalue().splitlines()) == 2
    assert any(isinstance(c, EpochProgress) for c in training_callbacks("nlu", Path("/tmp/x")))


def test_main_metric_prefers_a_validation_accuracy() -> None:
    from training.common.callbacks import epoch_line, main_metric

    assert main_metric({"loss": 1, "val_loss": 2, "val_intent_accuracy": 0.5}) == (
        "val_intent_accuracy"
    )
    assert main_metric({"loss": 1, "val_loss": 2}) == "val_loss"
    assert main_metric({"loss": 1}) is None
    assert epoch_line("tts", 2, None, {"loss": 0.5}, 1.25) == "tts epoch 2: loss 0.5000 (1.2 s)"


def test_training_progress_sets_the_variable_the_callback_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from training.common.callbacks import PROGRESS_ENV, progress_wanted

    assert PROGRESS_ENV == _progress.PROGRESS_ENV
    monkeypatch.setenv(PROGRESS_ENV, "")  # restored after the test
    _progress.training_progress(True)
    assert progress_wanted()
    _progress.training_progress(False)
    assert not progress_wanted()


def test_progress_is_quiet_for_json_and_pipes() -> None:
    assert _progress.watching(json_out=True) is False
    assert _progress.watching() is sys.stdout.isatty()
    with _progress.stage_progress(False) as progress:
        progress("audio", 1, 2)  # a no-op


def test_simulator_reports_its_stages_without_changing_the_bytes(tmp_path: Path) -> None:
    events: list[tuple[str, int, int]] = []
    heard = write_day(tmp_path / "a", 1, 6, seed=3, progress=lambda *e: events.append(e))
    silent = write_day(tmp_path / "b", 1, 6, seed=3)
    assert heard.files == silent.files
    stages = list(dict.fromkeys(stage for stage, _, _ in events))
    assert stages == ["calls", "audio", "exports", "crm", "manifest"]
    audio = [(done, total) for stage, done, total in events if stage == "audio"]
    assert audio == [(k, 6) for k in range(1, 7)]


@pytest.mark.slow
def test_command_importing_tensorflow_prints_no_start_up_notices(tmp_path: Path) -> None:
    """``voiceops predict`` imports TensorFlow (then finds no model): stderr has the error,
    none of TensorFlow's start-up notices."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOICEOPS_", "TF_"))}
    env |= {"VOICEOPS_HOME": str(tmp_path / "home"), "MLFLOW_TRACKING_URI": ""}
    code = (
        "import sys\nfrom voiceops.cli import main\n"
        "sys.argv = ['voiceops', 'predict', 'nlu', 'hello']\n"
        "try:\n    main()\nfinally:\n    assert 'tensorflow' in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 1, done.stderr
    assert "no version of voicebot-nlu is registered" in done.stderr
    assert [text for text in NOTICE_TEXTS if text in done.stderr] == []


def test_quiet_import_keeps_other_output_on_stderr(tmp_path: Path) -> None:
    """Only the notices are dropped: anything else written to descriptor 2 while TensorFlow
    loads, and everything after, still shows (a stand-in ``tensorflow`` writes the lines)."""
    stub = tmp_path / "stub" / "tensorflow"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text(
        "import os\n"
        "os.write(2, b'WARNING: All log messages before absl::InitializeLog() is called are "
        "written to STDERR\\n')\n"
        "os.write(2, b'I0000 00:00:1.5  7 port.cc:153] oneDNN custom operations are on.\\n')\n"
        "os.write(2, b'real problem while loading\\n')\n"
    )
    code = (
        "import os\nfrom voiceops.cli._tensorflow import import_tensorflow\n"
        "import_tensorflow()\nos.write(2, b'after the import\\n')\n"
        "print(os.environ['TF_CPP_MIN_LOG_LEVEL'])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env["PYTHONPATH"] = os.pathsep.join([str(stub.parent), os.getcwd()])
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "real problem while loading\nafter the import\n"
    assert done.stdout == "2\n"
    assert all(not p.search("real problem while loading") for p in START_UP_NOTICES)


def test_run_time_notices_are_filtered_and_everything_else_passes(
    capfd: pytest.CaptureFixture[str],
) -> None:
    from voiceops.cli._tensorflow import tensorflow_notices_filtered

    notice = (
        "E0000 00:00:1796544454.935864   11379 util.cc:131] oneDNN supports DT_INT32 only on "
        "platforms with AVX-512. Falling back to the default Eigen-based implementation.\n"
    )
    with tensorflow_notices_filtered():
        os.write(2, notice.encode())
        os.write(2, b"real error: disk full\n")
        os.write(2, b"\r 50% training")  # a progress bar's update, no newline
        subprocess.run(  # a child process writes to the same descriptor
            [sys.executable, "-c", "import os; os.write(2, b'child line\\n')"], check=True
        )
    err = capfd.readouterr().err
    assert "oneDNN supports" not in err
    assert "real error: disk full\n" in err
    assert "\r 50% training" in err
    assert "child line\n" in err
