"""An imported version is scored on the splits, and rows, an in-house version of its family is
scored on (``Family.test_splits``), whatever the family adds to the mart's test splits, with the
inputs it is scored with (``Family.scoring_inputs``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

SPLITS = ("train", "validation", "test", "test_channel", "test_real")


def _rows(family_name: str) -> list[dict[str, Any]]:
    """Mart rows of every split in both languages (the audio splits only for STT)."""
    return [
        {"split": split, "language": lang, "text": f"{split} {lang} {i}", "slots": {}}
        for split in SPLITS
        for lang in ("ru", "en")
        for i in range(2)
        if family_name == "stt" or split in ("train", "validation", "test")
    ]


@pytest.mark.parametrize("family_name", ["stt", "nlu", "nlg", "tts"])
def test_an_import_is_scored_on_the_splits_and_rows_a_training_run_scores(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, family_name: str
) -> None:
    from registry import external_eval
    from training import steps
    from training.families import Family

    rows = _rows(family_name)
    seen: list[list[dict[str, Any]]] = []
    inputs: list[dict[str, Any]] = []
    stt_model = tmp_path / "stt"
    stt_model.mkdir()

    def fake_scores(model_dir: Path, chosen: list[dict[str, Any]], **given: Any) -> dict:
        seen.append(chosen)
        inputs.append(given)
        return {"all": {"n": float(len(chosen))}}

    monkeypatch.setattr(Family, "load_rows", lambda self, settings, commit: rows)
    monkeypatch.setattr(Family, "evaluate_exported", lambda self, *a, **k: fake_scores(*a, **k))
    monkeypatch.setattr(external_eval, "stt_scores", fake_scores)
    record = {"family": family_name, "lake_commit": "c0ffee", "model_path": str(tmp_path)}
    models = {"stt_model": stt_model} if family_name == "tts" else {}
    if models:
        record["stt_model_path"] = str(stt_model)
    in_house = steps.evaluate(None, record)
    in_house_rows, seen[:] = list(seen), []
    in_house_inputs, inputs[:] = list(inputs), []
    imported = external_eval.evaluate_splits(family_name, tmp_path, rows, **models)

    assert list(imported) == in_house["splits"]
    assert seen == in_house_rows
    assert inputs == in_house_inputs  # NLG's pool of references, TTS's STT model
    if family_name == "tts":
        assert inputs and all(given["stt_model"] == stt_model for given in inputs)
    assert not {"train", "validation"} & set(imported)
    if family_name == "nlu":  # test sets NLU adds to the mart's own
        assert {"test", "test_human", "test_unseen_phrasing"} <= set(imported)
    if family_name == "stt":
        assert list(imported) == ["test", "test_channel", "test_real"]
