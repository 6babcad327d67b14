"""What the registry needs from a training run: the training asset's metadata, typed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The training metadata entry, and the MLflow run metric, holding how long training took (s).
TRAIN_SECONDS = "train_seconds"


def _json(value: Any, default: Any) -> Any:
    if value is None or value == "":
        return default
    return json.loads(value) if isinstance(value, str) else value


@dataclass
class TrainingInfo:
    """One trained, exported model and where it came from (the metadata contract)."""

    model_path: Path
    lake_commit: str
    config: dict[str, Any]
    config_hash: str
    code_version: str
    scores: dict[str, dict[str, dict[str, float]]]  # split -> language -> metric
    run_dir: Path | None = None
    data_rows: dict[str, int] = field(default_factory=dict)
    data_hash: str = ""
    fingerprint: str = ""
    history: dict[str, list[float]] = field(default_factory=dict)
    dagster_run_id: str = ""
    #: dbt manifest hash of the build of the marts it trained on (the code that built them)
    marts_manifest_hash: str = ""
    #: the STT model that scored a TTS model's intelligibility (None for other families)
    stt_model_path: Path | None = None
    #: seconds the training run took (0: not recorded)
    train_seconds: float = 0.0

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any], dagster_run_id: str = "") -> TrainingInfo:
        """From a training materialization's metadata (values already unwrapped)."""
        missing = [k for k in ("model_path", "lake_commit", "scores") if k not in metadata]
        if missing:
            raise ValueError(f"training metadata lacks {', '.join(missing)}")
        run_dir = metadata.get("run_dir")
        return cls(
            model_path=Path(metadata["model_path"]),
            lake_commit=str(metadata["lake_commit"]),
            config=_json(metadata.get("config"), {}),
            config_hash=str(metadata.get("config_hash", "")),
            code_version=str(metadata.get("code_version", "")),
            scores=_json(metadata.get("scores"), {}),
            run_dir=Path(run_dir) if run_dir else None,
            data_rows=_json(metadata.get("data_rows"), {}),
            data_hash=str(metadata.get("data_hash", "")),
            fingerprint=str(metadata.get("fingerprint", "")),
            history=_json(metadata.get("history"), {}),
            dagster_run_id=dagster_run_id,
            marts_manifest_hash=str(metadata.get("marts_manifest_hash", "")),
            stt_model_path=Path(metadata["stt_model_path"])
            if metadata.get("stt_model_path")
            else None,
            train_seconds=float(metadata.get(TRAIN_SECONDS) or 0.0),
        )
