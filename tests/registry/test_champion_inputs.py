"""The champion comparison counts each version's examples with the inputs a training run
scores with (``Family.comparison_inputs``): NLU the train rows (unseen phrasings), NLG the
pool of references, TTS the STT model; STT nothing more."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from registry import champion
from registry.policy import parse_policy
from training.families import family

ROWS = [
    {"split": split, "language": "en", "text": f"{split} {i}", "example_id": f"{split}-{i}"}
    for split in ("train", "validation", "test")
    for i in range(2)
]
TRAIN = [row for row in ROWS if row["split"] == "train"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("stt", {}),
        ("nlu", {"train_rows": TRAIN}),
        ("nlg", {"pool_rows": TRAIN}),
        ("tts", {"stt_model": Path("/models/stt")}),
    ],
)
def test_each_family_is_compared_with_its_scoring_inputs(monkeypatch, name, expected) -> None:
    from registry import compare

    seen: list[tuple[Path, list, dict[str, Any]]] = []

    def example_stats(fam, model_dir: Path, test: list, options: dict) -> dict:
        seen.append((model_dir, test, options))
        return {}

    monkeypatch.setattr(champion, "_example_stats", example_stats)
    monkeypatch.setattr(compare, "compare_models", lambda *a, **k: {"better": [], "worse": []})
    policy = parse_policy(
        {"families": {name: {"metrics": {}, "latency_budget_ms": 1000}}}, sha256="t", source="t"
    )
    stt_model = Path("/models/stt")
    fam = family(name)
    champion.compare_with_champion(
        fam, Path("/new"), Path("/old"), ROWS, policy, stt_model=stt_model
    )
    assert [model for model, _, _ in seen] == [Path("/new"), Path("/old")]
    for _, test, options in seen:
        assert test == [row for row in ROWS if row["split"] == "test"]
        assert options == expected
    assert (
        fam.comparison_inputs(ROWS, **({"stt_model": stt_model} if fam.uses_models else {}))
        == expected
    )
