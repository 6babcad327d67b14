"""Does a SavedModel match a family's serving signature? (before it is imported)

The ``serving_default`` signature of each family's export (``training.<family>.export``):
input dtypes and ranks (by position: NLG's inputs are unnamed) and output names.
"""

from __future__ import annotations

from pathlib import Path

#: family -> (inputs as (dtype, rank), output names) of ``serving_default``
SERVING: dict[str, tuple[list[tuple[str, int]], set[str]]] = {
    "stt": ([("float32", 2), ("int32", 1), ("int32", 0)], {"texts"}),
    "nlu": ([("string", 1)], {"intent", "confidence", "tokens", "slot_tags"}),
    "nlg": ([("string", 1)] * 3, {"output_0"}),
    "tts": ([("string", 1), ("string", 1)], {"waveforms", "lengths"}),
}


def signature_problems(family: str, path: Path) -> list[str]:
    """What about ``path``'s ``serving_default`` differs from the family's (empty: nothing)."""
    import tensorflow as tf

    if family not in SERVING:
        return [f"no serving signature known for family {family!r}"]
    try:
        loaded = tf.saved_model.load(str(path))
    except Exception as error:  # a directory TensorFlow cannot read
        return [f"TensorFlow cannot load it: {type(error).__name__}: {error}"[:400]]
    signature = loaded.signatures.get("serving_default")
    if signature is None:
        return ["it has no serving_default signature"]
    args, kwargs = signature.structured_input_signature
    specs = list(args) + [kwargs[name] for name in sorted(kwargs)]
    found = sorted((spec.dtype.name, spec.shape.rank) for spec in specs)
    expected_inputs, expected_outputs = SERVING[family]
    out = []
    if found != sorted(expected_inputs):
        out.append(f"serving_default takes {found}, a {family} model takes {expected_inputs}")
    outputs = set(signature.structured_outputs)
    if outputs != expected_outputs:
        out.append(
            f"serving_default answers {sorted(outputs)}, a {family} model answers "
            f"{sorted(expected_outputs)}"
        )
    return out
