"""Start STT training from a registered version's weights (``--init-from VERSION``).

The version's SavedModel holds the acoustic model as the ``model`` attribute of its serving
module (``export.STTServing``), so its variables are a TensorFlow checkpoint whose object
graph starts at ``model``: a fresh model of the same architecture reads them with
``tf.train.Checkpoint(model=...)``. A different architecture (another ``channels``,
``blocks``...) is a clear error, not a partial load.
"""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf


def restore_weights(model: keras.Model, saved_model: Path) -> int:
    """Load ``saved_model``'s acoustic weights into ``model``; the number of variables."""
    checkpoint = Path(saved_model) / "variables" / "variables"
    if not Path(f"{checkpoint}.index").is_file():
        raise FileNotFoundError(f"{saved_model}: no SavedModel variables to start from")
    before = [v.numpy().copy() for v in model.weights]
    try:
        status = tf.train.Checkpoint(model=model).read(str(checkpoint))
        status.assert_existing_objects_matched().expect_partial()  # the decoder is not read
    except (AssertionError, ValueError, tf.errors.InvalidArgumentError) as error:
        raise ValueError(
            f"--init-from {saved_model}: its weights do not fit this model's architecture "
            f"(train with the parent's config): {str(error)[:300]}"
        ) from None
    changed = sum(
        1 for v, old in zip(model.weights, before, strict=True) if (v.numpy() != old).any()
    )
    if changed == 0:
        raise ValueError(f"--init-from {saved_model}: no weight was read from it")
    return len(model.weights)
