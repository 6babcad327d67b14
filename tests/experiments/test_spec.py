"""Experiment spec parsing: defaults, and errors that name the file, the field and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.errors import InputError
from experiments.spec import SPECS_DIR, load_spec, load_specs

VALID = (SPECS_DIR / "nlu-canary.yaml").read_text()


def write(directory: Path, name: str, data: object) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data)
    return path


def valid(**overrides: object) -> dict:
    data = yaml.safe_load(VALID)
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_example_spec_and_defaults(tmp_path: Path) -> None:
    spec = load_specs()["nlu-canary"]
    assert spec.salt == "nlu-canary" and spec.coverage == 0.1
    assert spec.arms == {"control": {"nlu": 3}, "candidate": {"nlu": 4}}
    bare = load_spec(write(tmp_path, "nlu-canary", valid(weights=None, namespace=None)))
    assert bare.weights == {"control": 0.5, "candidate": 0.5}
    assert bare.namespace is None and bare.salt == "nlu-canary"


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        (
            {"weights": {"control": 0.5, "candidate": 0.6}},
            "weights",
            "must sum to 1, they sum to 1.1",
        ),
        ({"weights": {"candidate": 0.5, "control": 0.5}}, "weights", "in their order"),
        ({"coverage": 1.5}, "coverage", "less than or equal to 1"),
        ({"arms": {"control": {"nlu": 3}}}, "arms", "at least two arms"),
        ({"arms": {"a": {"asr": 1}, "b": {"asr": 2}}}, "arms", "unknown family 'asr'"),
        ({"arms": {"a": {"nlu": 1}, "b": {"nlu": 0}}}, "arms", "positive integer"),
        ({"arms": {"a": {"nlu": 1}, "b": {"stt": 2}}}, "arms", "same families"),
        ({"namespace": {"id": "nlu", "start": 0.6, "end": 0.5}}, "namespace", "below end"),
        ({"stop": "2026-12-01"}, "stop", "2026-12-01 must be after start 2026-12-07"),
        (
            {"guardrails": {"latency_p99_ms": 800, "error_rate": 0.01}},
            "guardrails.handoff_rate",
            "Field required",
        ),
        ({"metrics": []}, "metrics", "at least 1 item"),
        ({"min_sample_size": 0}, "min_sample_size", "greater than 0"),
        ({"colour": "red"}, "colour", "Extra inputs are not permitted"),
    ],
)
def test_bad_spec_names_file_field_reason(
    tmp_path: Path, overrides: dict, field: str, reason: str
) -> None:
    path = write(tmp_path, "nlu-canary", valid(**overrides))
    with pytest.raises(InputError) as caught:
        load_spec(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert f"{field}: " in message and reason in message, message


def test_key_must_match_file_name(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"other\.yaml: key: 'nlu-canary' must match"):
        load_spec(write(tmp_path, "other", valid()))


def test_unreadable_and_non_mapping(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"broken\.yaml: \(spec\): cannot read"):
        load_spec(write(tmp_path, "broken", "key: [unclosed"))
    with pytest.raises(InputError, match=r"list\.yaml: \(spec\): must be a mapping"):
        load_spec(write(tmp_path, "list", "- a\n- b\n"))


def test_overlapping_namespace_slices_refused(tmp_path: Path) -> None:
    write(tmp_path, "first", valid(key="first"))
    write(
        tmp_path, "second", valid(key="second", namespace={"id": "nlu", "start": 0.4, "end": 0.9})
    )
    with pytest.raises(InputError, match=r"second\.yaml: namespace: .*'first'"):
        load_specs(tmp_path)
    write(
        tmp_path, "second", valid(key="second", namespace={"id": "nlu", "start": 0.5, "end": 1.0})
    )
    assert set(load_specs(tmp_path)) == {"first", "second"}
