"""Same data + config + seed -> the same metrics (issue 5: determinism), per family."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from training.common.scores import flat_scores

TOLERANCE = 1e-6


def _rows(family: str) -> list[dict]:
    if family == "nlu":
        from training.nlu.synthetic import synthetic_rows

        return synthetic_rows(6, seed=5)
    from training.nlg.data import synthetic_rows

    return synthetic_rows(300, seed=5)


@pytest.mark.parametrize("family", ["nlu", "nlg"])
def test_two_runs_with_the_same_seed_give_the_same_metrics(family: str, tmp_path: Path) -> None:
    config_module = importlib.import_module(f"training.{family}.config")
    config = getattr(config_module, f"{family.upper()}Config").tiny()
    run = importlib.import_module(f"training.{family}.train").run
    rows = _rows(family)
    first = run(rows, config, tmp_path / "first")
    second = run(rows, config, tmp_path / "second")
    assert first.history["loss"] == pytest.approx(second.history["loss"], abs=TOLERANCE)
    a, b = flat_scores(first.scores), flat_scores(second.scores)
    assert a.keys() == b.keys() and a
    for split in a:
        for lang in a[split]:
            assert a[split][lang] == pytest.approx(b[split][lang], abs=TOLERANCE), (split, lang)
