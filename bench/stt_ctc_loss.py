"""STT training step: CTC on TensorFlow's C++ kernel (sparse labels, what ``training.stt``
uses) against the dense-label ``tf.nn.ctc_loss`` (a scan of TF ops), measured in one run.

Batches have the shapes the length bucketing forms at the ``demo`` config (16 s of audio per
batch, utterances of 2 to 9 s, ~12 characters per second); features and labels are random:
the time of a step does not depend on their values.

- **loss only**: CTC forward + gradient w.r.t. the logits.
- **train step**: the demo acoustic model's forward, CTC, backward and AdamW update.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from bench._common import Figure, bench_main, format_table, median, ms, ratio, timed, write_results

NAME = "stt_ctc_loss"
SECONDS = (2.0, 3.0, 4.5, 6.0, 9.0)
REPEATS, QUICK_REPEATS = 5, 2


def _batches(n_mels: int, batch_seconds: float) -> list[tuple[dict, dict]]:
    """One batch per utterance length, as many utterances as fit ``batch_seconds``."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    batches = []
    for seconds in SECONDS:
        size = max(1, int(batch_seconds // seconds))
        frames = int(seconds * 100)
        labels = rng.integers(1, 60, size=(size, int(seconds * 12))).astype(np.int32)
        features = rng.normal(size=(size, frames, n_mels)).astype(np.float32)
        batches.append(
            (
                {"features": tf.constant(features), "frames": tf.fill([size], frames)},
                {"labels": tf.constant(labels), "label_lengths": tf.fill([size], labels.shape[1])},
            )
        )
    return batches


def _dense_ctc(logits, frames, targets: dict, time_stride: int):
    """The baseline: dense labels, which ``tf.nn.ctc_loss`` computes with TF-op scans."""
    import tensorflow as tf

    from training.stt.model import output_lengths

    losses = tf.nn.ctc_loss(
        labels=targets["labels"],
        logits=logits,
        label_length=targets["label_lengths"],
        logit_length=output_lengths(frames, time_stride),
        logits_time_major=False,
        blank_index=0,
    )
    return tf.reduce_mean(losses)


def _step_fns(loss_fn: Callable, config) -> tuple[Callable, Callable]:
    """(loss-only step, full train step) compiled with ``tf.function``."""
    import keras
    import tensorflow as tf

    from training.stt.model import build_model
    from training.stt.text import ALPHABET

    model = build_model(config)
    optimizer = keras.optimizers.AdamW(1e-3)

    @tf.function(reduce_retracing=True)
    def loss_only(inputs, targets):
        steps = (tf.shape(inputs["features"])[1] + config.time_stride - 1) // config.time_stride
        logits = tf.random.normal([tf.shape(inputs["features"])[0], steps, len(ALPHABET) + 1])
        with tf.GradientTape() as tape:
            tape.watch(logits)
            loss = loss_fn(logits, inputs["frames"], targets, config.time_stride)
        return tape.gradient(loss, logits)

    @tf.function(reduce_retracing=True)
    def train_step(inputs, targets):
        with tf.GradientTape() as tape:
            logits = model(inputs, training=True)
            loss = loss_fn(logits, inputs["frames"], targets, config.time_stride)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    return loss_only, train_step


def _epoch_time(step: Callable, batches: list, repeats: int) -> float:
    """Median seconds of one pass over ``batches`` (after a warm-up pass that traces)."""
    for inputs, targets in batches:
        step(inputs, targets)
    return median([timed(lambda: [step(i, t) for i, t in batches])[0] for _ in range(repeats)])


def run(quick: bool = False) -> dict:
    from training.stt.config import STTConfig
    from training.stt.model import ctc_loss

    config = STTConfig.demo()
    batches = _batches(config.n_mels, config.max_batch_seconds)
    repeats = QUICK_REPEATS if quick else REPEATS
    ours, base = _step_fns(ctc_loss, config), _step_fns(_dense_ctc, config)
    rows = []
    for label, index in (("loss only", 0), ("train step", 1)):
        kernel = _epoch_time(ours[index], batches, repeats) / len(batches)
        dense = _epoch_time(base[index], batches, repeats) / len(batches)
        rows.append([label, ms(kernel), ms(dense), ratio(dense, kernel)])
    print(format_table(["per batch", "C++ kernel ms", "dense TF ops ms", "speed-up"], rows))
    figures = [
        Figure(NAME, "CTC loss speed-up (C++ kernel vs dense)", rows[0][3], "x"),
        Figure(NAME, "train step speed-up", rows[1][3], "x", ">= 1", rows[1][3] >= 1),
        Figure(NAME, "train step (demo model, 16 s of audio)", rows[1][1], "ms"),
    ]
    data = {"rows": rows, "figures": figures, "repeats": repeats}
    write_results(NAME, data)
    return data


def main(argv: Sequence[str] | None = None) -> None:
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
