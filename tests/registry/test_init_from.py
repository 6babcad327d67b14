"""``--init-from VERSION``: STT training starts from a registered version's weights (tiny
preset, real training, a real MLflow registry on SQLite) and the child's lineage names the
parent version and its MLflow run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from registry.errors import RegistryError
from registry.parents import resolve_parent
from registry.register import register
from registry.tracking import client
from registry.training_info import TrainingInfo
from registry.versions import get_version
from tests.registry.conftest import MANIFEST, World
from tests.registry.speech import spoken_rows


@pytest.fixture(scope="module")
def rows(tmp_path_factory) -> list[dict[str, Any]]:
    work = tmp_path_factory.mktemp("speech")
    return [
        *spoken_rows(work, "train"),
        *spoken_rows(work, "validation", offset=1),
        *spoken_rows(work, "test", offset=2),
    ]


def _info(result: Any, commit: str) -> TrainingInfo:
    return TrainingInfo(
        model_path=result.model_path,
        lake_commit=commit,
        config=result.config.to_dict(),
        config_hash=result.config.config_hash(),
        code_version="code-v1",
        scores=result.metrics,
        marts_manifest_hash=MANIFEST,
    )


def _logits(serving: Any, rows: list[dict[str, Any]]) -> np.ndarray:
    import tensorflow as tf

    from training.common.audio import pad_batch
    from training.stt.data import prepare

    batch, lengths = pad_batch(prepare(rows[:2]).waveforms)
    out = serving.acoustic(tf.constant(batch), tf.constant(lengths), tf.constant(8000))
    return out["logits"].numpy()


def test_training_starts_from_a_registered_version(
    sqlite_world: World, rows, tmp_path: Path
) -> None:
    import tensorflow as tf

    from training.stt.config import STTConfig
    from training.stt.export import STTServing
    from training.stt.model import build_model
    from training.stt.train import train
    from training.stt.warm_start import restore_weights

    settings = sqlite_world.settings
    config = STTConfig.tiny(epochs=2)
    first = train(rows, config, tmp_path / "parent")
    parent_version = register(
        "stt", _info(first, sqlite_world.published), settings=settings, rows=rows
    )
    parent = resolve_parent(settings, "stt", parent_version.version)
    assert (parent.version, parent.run_id) == (parent_version.version, parent_version.run_id)

    # the restored model answers exactly as the registered one
    fresh = build_model(config)
    restore_weights(fresh, parent.saved_model)
    registered = tf.saved_model.load(str(parent.saved_model))
    np.testing.assert_allclose(
        _logits(STTServing(fresh, config), rows), _logits(registered, rows), atol=1e-5
    )
    # a different architecture is refused, not half-loaded
    with pytest.raises(ValueError, match="do not fit this model's architecture"):
        restore_weights(build_model(replace(config, channels=48)), parent.saved_model)

    child_config = replace(
        config, epochs=1, init_from=parent.version, init_from_run_id=parent.run_id
    )
    child = train(rows, child_config, tmp_path / "child", init_model=parent.saved_model)
    assert child.config.to_dict()["init_from"] == parent.version
    assert "init_from" not in config.to_dict()  # no parent: the config hash is unchanged
    registered_child = register(
        "stt", _info(child, sqlite_world.published), settings=settings, rows=rows
    )
    tags = get_version(client(settings), "voicebot-stt", registered_child.version).tags
    assert tags["lineage.parent_version"] == parent.version
    assert tags["lineage.parent_run_id"] == parent.run_id


def test_an_imported_version_cannot_be_fine_tuned(sqlite_world: World, rows) -> None:
    from registry.import_version import import_version

    imported = import_version(
        "stt", "pocketsphinx-en-us", settings=sqlite_world.settings, rows=rows
    )
    with pytest.raises(RegistryError, match="only a version trained here can be fine-tuned"):
        resolve_parent(sqlite_world.settings, "stt", imported.version)
