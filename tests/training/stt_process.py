"""Transcribe with an exported STT model in a fresh Python process (export -> reload tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = (
    "import json, sys, numpy as np\n"
    "from training.stt.export import load, transcribe\n"
    "data = np.load(sys.argv[2])\n"
    "waves = [data[f'arr_{i}'] for i in range(len(data.files))]\n"
    "model = load(sys.argv[1])\n"
    "print(json.dumps([transcribe(model, waves, 8000), model.decoder_json.numpy().decode()]))\n"
)


def transcribe_in_fresh_process(
    model_path: Path, waves: list[np.ndarray], work_dir: Path
) -> tuple[list[str], str]:
    """Texts of 8 kHz ``waves`` and the model's ``decoder_json``, from a new interpreter."""
    np.savez(work_dir / "waves.npz", *waves)
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(model_path), str(work_dir / "waves.npz")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    texts, decoder = json.loads(out.stdout.strip().splitlines()[-1])
    return texts, decoder
